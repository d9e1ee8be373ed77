"""Account administration in the service layer: who acted is recorded, an admin
cannot demote themselves, a reset of the second factor ends every session."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from casemgr import context
from casemgr.audit.models import AuditEntry
from casemgr.auth import accounts
from casemgr.domain import SYSTEM_ACTOR
from casemgr.errors import NotFound, ValidationFailed
from casemgr.extensions import db


def _entry(action: str) -> AuditEntry:
    """The latest entry of ``action`` (the fixtures' accounts have their own)."""
    return db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id.desc())
    )


def test_create_records_the_actor(app, admin):
    user = accounts.create_user(
        db.session,
        accounts.AccountInput(
            email="new@example.org", name="New", role="analyst", password="long enough password"
        ),
        now=context.now(),
        actor=admin.actor,
    )
    db.session.commit()
    entry = _entry("user.create")
    assert (entry.actor_id, entry.target_id) == (admin.id, str(user.id))


def test_the_command_line_acts_as_the_system(app):
    accounts.create_user(
        db.session,
        accounts.AccountInput(
            email="cli@example.org", name="Cli", role="admin", password="long enough password"
        ),
        now=context.now(),
        actor=SYSTEM_ACTOR,
    )
    db.session.commit()
    assert _entry("user.create").actor_id is None


def test_an_admin_cannot_change_their_own_role(app, admin):
    data = accounts.AccountInput(email=admin.email, name=admin.name, role="analyst")
    with pytest.raises(ValidationFailed) as refused:
        accounts.update_user(db.session, admin, data, now=context.now(), actor=admin.actor)
    assert "your own role" in refused.value.fields["role"][0]


def test_reset_two_factor_ends_every_session(app, admin, supervisor):
    token = supervisor.session_token
    accounts.reset_two_factor(db.session, supervisor, now=context.now(), actor=admin.actor)
    db.session.commit()
    assert not supervisor.has_two_factor and supervisor.session_token != token
    assert _entry("auth.2fa_reset").actor_id == admin.id


@pytest.mark.parametrize("user_id", [9999, 0, 2**31, 10**20])
def test_an_unknown_user_is_not_found(app, user_id):
    with pytest.raises(NotFound, match=f"no user with id {user_id}"):
        accounts.get_user(db.session, user_id)
