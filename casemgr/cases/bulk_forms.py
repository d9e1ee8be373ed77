"""The queue's bulk action bar: which actions, and the fields each one takes.

The fields of a workflow action come from its rule in the workflow table
(``build_action_form``), as on the case page, with the action's name as
their prefix (``assess-classification``): one form holds them all, and the
bulk view reads those of the chosen action. The form's one CSRF token is
checked for the whole request by CSRFProtect, so the action forms carry none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy.orm import Session
from wtforms import TextAreaField

from casemgr import context
from casemgr.auth import accounts
from casemgr.cases import bulk
from casemgr.cases.bulk import BULK_ACTIONS, MAX_BULK_CASES
from casemgr.cases.forms import action_values, build_action_form
from casemgr.cases.labels import ACTION
from casemgr.cases.notes import MAX_NOTE_LENGTH
from casemgr.cases.states import Action
from casemgr.cases.workflow import RULES
from casemgr.directory.queries import by_kind

LABELS: Mapping[str, Any] = {
    **ACTION,
    "take": _l("Take (assign to me)"),
    "assign": _l("Assign to someone"),
    "add_note": _l("Add a note"),
}


class NoteForm(FlaskForm):
    body = TextAreaField(
        _l("Note"),
        description=_l("Plain text; it cannot be edited later."),
        render_kw={"rows": 3, "maxlength": MAX_NOTE_LENGTH},
    )


def action_options(session: Session) -> dict[str, list[tuple[str, str]]]:
    """The choices of the action fields that name a person or an organisation."""
    return {
        "staff": [(str(u.id), f"{u.name} ({u.role})") for u in accounts.active_staff(session)],
        **organisation_options(session),
    }


def organisation_options(session: Session) -> dict[str, list[tuple[str, str]]]:
    """The active organisations by kind, as (id, label) choices."""
    return {
        kind: [(str(o.id), o.label) for o in organisations]
        for kind, organisations in by_kind(session).items()
    }


def action_form(action: str, options: Mapping[str, Any], formdata=None) -> FlaskForm | None:
    """The form of ``action``'s fields (None for an action that takes none)."""
    if action == bulk.ADD_NOTE:
        form: FlaskForm = NoteForm(formdata=formdata, prefix=action, meta={"csrf": False})
    elif bulk.field_specs(action):
        form = build_action_form(RULES[Action(action)], options, formdata=formdata)
        del form.version  # a bulk action carries no version per case
        if "csrf_token" in form:
            del form.csrf_token  # the bulk form's own token stands for it
    else:
        return None
    return form


def field_values(action: str, form: FlaskForm | None) -> dict[str, Any]:
    """The values of ``form``, keyed as the bulk service names them."""
    if form is None:
        return {}
    if action == bulk.ADD_NOTE:
        return {bulk.NOTE_BODY: form.body.data or ""}
    return action_values(form)


# The bar's fields as every queue page shows them (nothing typed yet) are
# the same HTML for everyone until the staff or the directory change, or the
# minute ("removed at" starts at now): built and rendered once per process,
# language, minute and set of choices. The assess form alone (a select of
# every country) took 5 ms a page to render.
_BLANK_FIELDS: dict[tuple[Any, ...], Markup] = {}
_BLANK_FIELDS_KEPT = 16


@dataclass
class BulkBar:
    """What the bar shows: the actions, the fields of those that take some,
    what was chosen, what failed.

    ``forms`` are built only when something was typed (the bulk view reads
    and checks them); otherwise the fields come from the cache."""

    options: Mapping[str, Any]
    forms: dict[str, FlaskForm] = field(default_factory=dict)
    action: str | None = None
    errors: list[str] = field(default_factory=list)
    max_cases: int = MAX_BULK_CASES

    @property
    def actions(self) -> list[tuple[str, str]]:
        return [(action, label(action)) for action in BULK_ACTIONS]

    def label(self, action: str) -> str:
        return label(action)

    @property
    def with_fields(self) -> frozenset[str]:
        return WITH_FIELDS

    @property
    def fields_html(self) -> Markup:
        """The fieldsets of the actions' fields, rendered when the page asks
        (after the bulk view has checked what was typed)."""
        if self.forms:
            return self._render(self.forms)
        # "Removed at" starts at the current minute: a new minute, new fields.
        minute = context.now().replace(second=0, microsecond=0)
        choices = ((k, tuple(v)) for k, v in sorted(self.options.items()))
        key = (str(get_locale()), minute, *choices)
        if key not in _BLANK_FIELDS:
            if len(_BLANK_FIELDS) >= _BLANK_FIELDS_KEPT:
                _BLANK_FIELDS.clear()
            _BLANK_FIELDS[key] = self._render(_forms(self.options, None, None))
        return _BLANK_FIELDS[key]

    def _render(self, forms: dict[str, FlaskForm]) -> Markup:
        # The template alone, without the app's context processors (the menu's counts).
        template = current_app.jinja_env.get_template("cases/_bulk_fields.html")
        html = template.render(bulk=self, forms=forms)
        return Markup(html)  # noqa: S704 - Jinja rendered it, escaping every value


# The actions that take fields.
WITH_FIELDS = frozenset(action for action in BULK_ACTIONS if bulk.field_names(action))


def label(action: str) -> str:
    """The plain words of a bulk action."""
    return str(LABELS.get(action, action.replace("_", " ")))


def _forms(options: Mapping[str, Any], formdata, action: str | None) -> dict[str, FlaskForm]:
    forms = {}
    for name in BULK_ACTIONS:
        form = action_form(name, options, formdata if name == action else None)
        if form is not None:
            forms[name] = form
    return forms


def bar(
    session: Session,
    *,
    formdata=None,
    action: str | None = None,
    errors: list[str] | None = None,
    values: Mapping[str, str] | None = None,
) -> BulkBar:
    """The bar; with ``formdata``, the forms of what was sent (``action``'s filled in);
    else with ``values`` (by field name) as the actions' fields' starting values."""
    options = action_options(session)
    forms = _forms(options, formdata, action) if formdata is not None or values else {}
    if formdata is None and values:
        for form in forms.values():
            for name, value in values.items():
                if name in form:
                    form[name].data = value
    return BulkBar(
        options=options,
        forms=forms,
        action=action,
        errors=errors or [],
        max_cases=MAX_BULK_CASES,
    )
