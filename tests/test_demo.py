from sqlalchemy import func, select

from casemgr.auth.models import User
from casemgr.cases.models import Case
from casemgr.cases.states import Status
from casemgr.extensions import db
from casemgr.notices.models import Notice, NoticeCase


def test_demo_fills_every_state_once_and_never_twice(runner):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "analyst@example.org" in first.output and "password for all" in first.output
    assert "Times are shown in UTC, as HOTLINE_TIMEZONE says" in first.output
    states = set(db.session.scalars(select(Case.status).distinct()).all())
    assert states == {status.value for status in Status}
    count = db.session.scalar(select(func.count()).select_from(Case))
    assert count >= 40
    # Every notice went out as the notice run sends it: a stored letter per case.
    notified = db.session.scalars(select(Case).where(Case.notice_sent_at.is_not(None))).all()
    assert notified
    covered = set(db.session.scalars(select(NoticeCase.case_id)).all())
    assert {case.id for case in notified} <= covered
    letters = db.session.scalars(select(Notice).where(Notice.kind == "notice")).all()
    assert letters and all(letter.pdf.startswith(b"%PDF") for letter in letters)
    hosts = db.session.scalars(select(Case.host).distinct()).all()
    assert all(host.endswith(("example.com", "example.net", "example.org")) for host in hosts)

    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0 and "no demo data added" in second.output
    assert db.session.scalar(select(func.count()).select_from(Case)) == count


def test_demo_refuses_the_production_configuration(app, runner):
    """Its accounts share a published password: never in production."""
    app.config["ENV_NAME"] = "production"
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 1
    assert "refuses to run under the production configuration" in result.output
    assert "CASEMGR_ENV=production" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0
