"""The staff menu registry: items by role, only for endpoints the app has."""

from __future__ import annotations

import pytest
from flask import render_template_string
from flask_login import login_user

from casemgr import navigation
from casemgr.navigation import register_nav_item

MENU = "{% for i in staff_nav_items %}[{{ i.label }} {{ i.url }}]{% endfor %}"


@pytest.fixture
def app_config() -> dict:
    return {"ENV_NAME": "testing"}  # TestingConfig (see tests/stats/conftest.py)


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setattr(navigation, "_items", {})
    register_nav_item("Everyone", "cases.queue", "analyst")
    register_nav_item("Admins", "staff.users", "admin")
    register_nav_item("Elsewhere", "nowhere.page", "analyst")  # endpoint not in this app


def test_menu_by_role(app, make, registry):
    with app.test_request_context():
        assert render_template_string(MENU) == ""  # anonymous
    with app.test_request_context():
        login_user(make.user("analyst"))
        assert render_template_string(MENU) == "[Everyone /cases/]"
        login_user(make.user("admin"))
        assert render_template_string(MENU) == "[Everyone /cases/][Admins /admin/users]"


def test_registering_again_replaces(registry):
    register_nav_item("Queue", "cases.queue", "analyst")
    assert [item.label for item in navigation._items.values()][0] == "Queue"
