"""The staff menu: each feature adds its own item; the base template shows them.

A feature registers its item once, where its views are defined::

    register_nav_item(_l("Statistics"), "stats.dashboard", Role.SUPERVISOR)

``staff_nav_items`` (a list of ``NavLink``) is then in every template, holding
the items the signed-in user's role may open, in registration order. A label
is a lazy string (``lazy_gettext``) or a callable, so that it is translated
into each signed-in member of staff's language when the menu is drawn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, url_for
from flask_babel import LazyString
from flask_login import current_user

from casemgr.domain import Role

Label = str | LazyString | Callable[[], str]


@dataclass(frozen=True)
class NavItem:
    label: Label  # a callable for a label with a count in it
    endpoint: str
    role: Role
    # Shown only while this says so (a list that is usually empty); None: always.
    shown: Callable[[], bool] | None = None

    def text(self) -> str:
        return str(self.label() if callable(self.label) else self.label)


@dataclass(frozen=True)
class NavLink:
    label: str
    url: str


_items: dict[str, NavItem] = {}


def register_nav_item(
    label: Label, endpoint: str, role: Role | str, *, shown: Callable[[], bool] | None = None
) -> None:
    """Add (or replace) the menu item of ``endpoint``, shown from ``role`` up
    (and only while ``shown()`` is true, when given)."""
    _items[endpoint] = NavItem(label, endpoint, Role(role), shown)


def nav_links() -> list[NavLink]:
    """The items the current user may open, for apps that have their endpoint."""
    if not current_user.is_authenticated:
        return []
    return [
        NavLink(item.text(), url_for(item.endpoint))
        for item in _items.values()
        if item.endpoint in current_app.view_functions
        and current_user.has_role(item.role)
        and (item.shown is None or item.shown())
    ]


def init_app(app: Flask) -> None:
    app.context_processor(lambda: {"staff_nav_items": nav_links()})
