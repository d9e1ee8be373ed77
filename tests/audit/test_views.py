"""The admins' audit log screen (casemgr/audit/views.py): search by actor, action,
target and period, paged; bad filters are ignored, never a 500; admins only."""

from __future__ import annotations

import pytest

from casemgr import context
from casemgr.audit.services import record
from casemgr.extensions import db
from tests.audit.helpers import write
from tests.conftest import login


def test_admins_search_by_actor_action_target_and_period(client, admin, analyst, clock):
    write(3, action="test.early")
    clock.advance(days=2)
    record(
        db.session,
        action="user.update",
        now=context.now(),
        actor_id=analyst.id,
        target_type="user",
        target_id=analyst.id,
    )
    db.session.commit()
    login(client, admin)
    page = client.get("/admin/audit/")
    assert page.status_code == 200 and b"<code>test.early</code>" in page.data
    by_actor = client.get(f"/admin/audit/?actor={analyst.id}").get_data(as_text=True)
    assert "<code>user.update</code>" in by_actor and "<code>test.early</code>" not in by_actor
    by_prefix = client.get("/admin/audit/?action=test.").get_data(as_text=True)
    assert "<code>test.early</code>" in by_prefix and "<code>user.update</code>" not in by_prefix
    by_target = client.get("/admin/audit/?target_type=thing&target_id=1")
    assert by_target.get_data(as_text=True).count("<code>test.early</code>") == 1
    today = context.now().date().isoformat()
    by_period = client.get(f"/admin/audit/?since={today}&until={today}").get_data(as_text=True)
    assert "<code>user.update</code>" in by_period and "<code>test.early</code>" not in by_period


def test_the_screen_pages(client, admin):
    write(60)
    login(client, admin)
    first = client.get("/admin/audit/?action=test.event").get_data(as_text=True)
    assert "Page 1 of 2" in first and "Older" in first
    second = client.get("/admin/audit/?action=test.event&page=2")
    assert b"Page 2 of 2" in second.data


@pytest.mark.parametrize(
    "query",
    [
        "?actor=abc",
        "?actor=99999999999999",
        "?since=2026-13-45",
        "?page=-1",
        "?target_id=" + "x" * 500,
        "?page=99999999999",
    ],
)
def test_bad_filters_are_ignored_never_a_500(client, admin, query):
    login(client, admin)
    assert client.get("/admin/audit/" + query).status_code == 200


def test_a_control_character_in_a_filter_is_refused_naming_it(client, admin):
    login(client, admin)
    response = client.get("/admin/audit/?action=%00")
    assert response.status_code == 400
    assert "action: must not contain control characters" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["analyst", "supervisor"])
def test_only_admins_see_it(client, make, role):
    login(client, make.user(role))
    assert client.get("/admin/audit/").status_code == 403
