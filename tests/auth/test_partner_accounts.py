"""Partner hotlines' accounts: API only, tied to a hotline of the directory;
created by the CLI (``users create --role partner --organisation ID``) and by
admins (tests/staff/test_partner_views.py); never signed in on the web."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from casemgr import context
from casemgr.audit.models import AuditEntry
from casemgr.auth import accounts
from casemgr.auth.models import User
from casemgr.cases import services as cases
from casemgr.domain import SYSTEM_ACTOR
from casemgr.errors import ValidationFailed
from casemgr.extensions import db
from tests.factories import PASSWORD


def _create(**changes) -> User:
    data = {"email": "api@partner.example.org", "name": "Partner", "role": "partner"} | changes
    user = accounts.create_user(
        db.session, accounts.AccountInput(**data), now=context.now(), actor=SYSTEM_ACTOR
    )
    db.session.commit()
    return user


class TestAccounts:
    def test_a_partner_account_belongs_to_a_hotline_and_has_no_usable_password(self, make):
        hotline = make.organisation("hotline")
        user = _create(organisation_id=hotline.id, password=PASSWORD)
        assert (user.role, user.organisation.id, user.is_partner) == ("partner", hotline.id, True)
        assert not user.check_password(PASSWORD)  # a password given is not kept
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.create"))
        assert entry.details["organisation_id"] == hotline.id

    @pytest.mark.parametrize(
        ("organisation", "message"),
        [
            (None, "is required for a partner account"),
            (999_999, "no organisation with id 999999"),
            ("hosting_provider", "is not a partner hotline"),
        ],
    )
    def test_a_partner_needs_a_hotline(self, make, organisation, message):
        if isinstance(organisation, str):
            organisation = make.organisation(organisation).id
        with pytest.raises(ValidationFailed) as refused:
            _create(organisation_id=organisation)
        assert message in refused.value.fields["organisation"][0]

    def test_staff_belong_to_no_organisation(self, make):
        hotline = make.organisation("hotline")
        with pytest.raises(ValidationFailed) as refused:
            _create(role="analyst", password=PASSWORD, organisation_id=hotline.id)
        assert "organisation" in refused.value.fields

    def test_a_partner_never_becomes_staff_nor_the_other_way(self, make, admin):
        partner, analyst = make.user("partner"), make.user("analyst")
        for user, role in ((partner, "analyst"), (analyst, "partner")):
            data = accounts.AccountInput(
                email=user.email,
                name=user.name,
                role=role,
                organisation_id=partner.organisation_id if role == "partner" else None,
            )
            with pytest.raises(ValidationFailed) as refused:
                accounts.update_user(db.session, user, data, now=context.now(), actor=admin.actor)
            assert "role" in refused.value.fields

    def test_a_partner_is_no_member_of_staff_to_assign_a_case_to(self, make, supervisor):
        partner = make.user("partner")
        assert partner not in accounts.active_staff(db.session)
        case = make.case("triage")
        with pytest.raises(ValidationFailed) as refused:
            cases.apply_action(
                db.session,
                case,
                "assign",
                {"assignee_id": partner.id},
                actor=supervisor.actor,
                now=context.now(),
                timings=context.timings(),
            )
        assert "assignee_id" in refused.value.fields


class TestNoWebSession:
    def test_sign_in_is_refused_like_a_wrong_password_and_audited(self, client, make):
        partner = make.user("partner")
        partner.set_password(PASSWORD)  # even were the password known
        db.session.commit()
        response = client.post("/login", data={"email": partner.email, "password": PASSWORD})
        wrong = client.post("/login", data={"email": partner.email, "password": "nope" * 4})
        assert response.status_code == wrong.status_code == 401
        assert b"E-mail or password is wrong" in response.data
        assert client.get("/cases/").status_code == 302
        refused = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "auth.login_failed")
        ).all()
        assert [entry.details["reason"] for entry in refused] == ["partner_account"] * 2
        assert refused[0].actor_id == partner.id

    def test_a_session_cookie_of_a_partner_is_never_honoured(self, client, make):
        partner = make.user("partner")
        with client.session_transaction() as session:
            session["_user_id"] = partner.get_id()
            session["_fresh"] = True
        response = client.get("/cases/")
        assert response.status_code == 302 and response.location.startswith("/login")


class TestCommandLine:
    def test_create_a_partner_account_then_a_token(self, runner, make):
        hotline = make.organisation("hotline", name="Hotline Y")
        result = runner.invoke(
            args=[
                "users",
                "create",
                "api@hotline-y.example.org",
                "--name",
                "Hotline Y's casemgr",
                "--role",
                "partner",
                "--organisation",
                str(hotline.id),
            ]
        )
        assert result.exit_code == 0, result.output
        assert "Hotline Y" in result.output and "users token" in result.output
        user = accounts.find_by_email(db.session, "api@hotline-y.example.org")
        assert (user.role, user.organisation_id) == ("partner", hotline.id)
        token = runner.invoke(args=["users", "token", user.email, "--label", "Hotline Y"])
        assert token.exit_code == 0 and token.output.strip().splitlines()[-1].startswith("cm_")

    @pytest.mark.parametrize(
        ("organisation", "message"),
        [
            (None, "organisation: is required for a partner account"),
            ("424242", "organisation: no organisation with id 424242"),
            ("police", "is not a partner hotline"),
        ],
    )
    def test_create_refuses_a_missing_unknown_or_other_organisation(
        self, runner, make, organisation, message
    ):
        if organisation == "police":
            organisation = str(make.organisation("police").id)
        extra = ["--organisation", organisation] if organisation else []
        result = runner.invoke(
            args=["users", "create", "p@x.example.org", "--name", "P", "--role", "partner", *extra]
        )
        assert result.exit_code == 1
        assert message in result.output
        assert accounts.find_by_email(db.session, "p@x.example.org") is None

    def test_create_refuses_a_password_for_a_partner_and_an_organisation_for_staff(
        self, runner, make
    ):
        hotline = str(make.organisation("hotline").id)
        partner = runner.invoke(
            args=["users", "create", "p@x.example.org", "--name", "P", "--role", "partner"]
            + ["--organisation", hotline, "--password", "long enough password"]
        )
        staff = runner.invoke(
            args=["users", "create", "s@x.example.org", "--name", "S", "--role", "analyst"]
            + ["--organisation", hotline, "--password", "long enough password"]
        )
        assert partner.exit_code == staff.exit_code == 1
        assert "password:" in partner.output and "organisation:" in staff.output
        assert db.session.scalar(select(User)) is None
