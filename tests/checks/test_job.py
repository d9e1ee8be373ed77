"""The url_checks job: which cases it checks, what it records, when it reports a removal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from casemgr.cases.models import Case, CaseEvent
from casemgr.checks.models import UrlCheck
from casemgr.extensions import db
from casemgr.jobs import url_checks
from tests import factories

ON = {
    "URL_CHECKS_ENABLED": True,
    "URL_CHECK_ALLOW_PRIVATE": True,  # the servers are on 127.0.0.1
    "URL_CHECK_TIMEOUT": 2,
    "URL_CHECK_INTERVAL_HOURS": 24,
}


@pytest.fixture
def app_config():
    return dict(ON)


def run(app, resolver, now):
    summary = url_checks.run(db.session, now, app, resolver=resolver)
    db.session.commit()
    return summary


def checks(case_id: int) -> list[UrlCheck]:
    return list(
        db.session.scalars(
            select(UrlCheck).where(UrlCheck.case_id == case_id).order_by(UrlCheck.id)
        )
    )


def events(case_id: int, action: str | None = None) -> list[CaseEvent]:
    statement = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
    if action:
        statement = statement.where(CaseEvent.action == action)
    return list(db.session.scalars(statement))


def test_checks_cases_waiting_for_removal_only(app, clock, site, resolver):
    waiting = {
        state: factories.case(state, url=site.url(f"/ok?{state}"))
        for state in ("notice_sent", "forwarded", "with_police")
    }
    others = [
        factories.case(state, url=site.url(f"/ok?{state}"))
        for state in (
            "new",
            "triage",
            "action_required",
            "notice_pending",
            "closed",
            "with_police_hold",  # police asked to hold: a check could tip the site off
        )
    ]
    summary = run(app, resolver, clock.now())
    assert summary.outcomes == {"live": 3}
    assert {seen.path for seen in site.requests} == {f"/ok?{state}" for state in waiting}
    assert site.methods() == {"HEAD"}
    for case in waiting.values():
        (check,) = checks(case.id)
        assert (check.outcome, check.status_code, check.checked_at) == ("live", 200, clock.now())
    for case in others:
        assert checks(case.id) == []


def test_not_checked_again_within_the_interval(app, clock, site, resolver):
    case = factories.case("notice_sent", url=site.url("/ok"))
    run(app, resolver, clock.now())
    assert run(app, resolver, clock.now() + timedelta(hours=23)).checked == 0
    assert run(app, resolver, clock.now() + timedelta(hours=24)).checked == 1
    assert len(checks(case.id)) == 2


def test_two_findings_of_gone_report_the_removal_at_the_first(app, clock, site, resolver):
    case = factories.case("notice_sent", url=site.url("/404"))
    first = clock.now()
    summary = run(app, resolver, first)
    assert (summary.outcomes, summary.counts["reported"]) == ({"gone": 1}, 0)
    assert case.removal_reported_at is None

    later = first + timedelta(hours=25)
    summary = run(app, resolver, later)
    assert summary.counts["reported"] == 1
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert case.status == "notice_sent"  # never closed by the check
    assert case.removal_reported_at == first
    assert case.removal_reported_by == "check"
    assert case.due_at == later + timedelta(hours=24)
    (reported,) = events(case.id, "report_removal")
    assert reported.fields == {"removed_at": first.isoformat(), "source": "check"}
    assert reported.actor_id is None
    # A reported removal waits for an analyst: no more checks.
    assert run(app, resolver, later + timedelta(days=3)).due == 0


def test_410_and_unresolvable_confirm_too(app, clock, site, resolver):
    gone = factories.case("forwarded", url=site.url("/410"))
    vanished = factories.case("with_police", url="http://vanished.test/x")
    for day in (0, 1):
        run(app, resolver, clock.now() + timedelta(days=day))
    db.session.expire_all()
    assert db.session.get(Case, gone.id).removal_reported_at == clock.now()
    assert db.session.get(Case, vanished.id).removal_reported_at == clock.now()
    assert [c.outcome for c in checks(vanished.id)] == ["unresolvable", "unresolvable"]


def test_a_live_answer_in_between_resets(app, clock, site, resolver):
    case = factories.case("notice_sent", url=site.url("/flaky"))
    for day, status in enumerate((404, 200, 404)):
        site.answers["/flaky"] = status
        run(app, resolver, clock.now() + timedelta(days=day))
    db.session.expire_all()
    assert db.session.get(Case, case.id).removal_reported_at is None
    assert [c.outcome for c in checks(case.id)] == ["gone", "live", "gone"]
    site.answers["/flaky"] = 410
    run(app, resolver, clock.now() + timedelta(days=3))
    db.session.expire_all()
    assert db.session.get(Case, case.id).removal_reported_at == clock.now() + timedelta(days=2)


def test_an_error_in_between_resets_too(app, clock, site, resolver, hanging):
    """Only the last checks in a row count: a timeout is not a finding of gone."""
    case = factories.case("notice_sent", url=site.url("/sometimes"))
    site.answers["/sometimes"] = 404
    run(app, resolver, clock.now())
    site.answers["/sometimes"] = 500
    run(app, resolver, clock.now() + timedelta(days=1))
    site.answers["/sometimes"] = 404
    run(app, resolver, clock.now() + timedelta(days=2))
    db.session.expire_all()
    assert db.session.get(Case, case.id).removal_reported_at is None
    assert [(c.outcome, c.status_code) for c in checks(case.id)] == [
        ("gone", 404),
        ("other", 500),
        ("gone", 404),
    ]


def test_200_to_everything_never_reports(app, clock, everything_ok, resolver):
    case = factories.case("notice_sent", url=everything_ok.url("/long-removed"))
    for day in range(4):
        run(app, resolver, clock.now() + timedelta(days=day))
    db.session.expire_all()
    assert db.session.get(Case, case.id).removal_reported_at is None
    assert everything_ok.methods() == {"HEAD"}


def test_an_event_only_when_the_outcome_changes(app, clock, site, resolver):
    case = factories.case("notice_sent", url=site.url("/changing"))
    for day, status in enumerate((200, 200, 200, 500, 200)):
        site.answers["/changing"] = status
        run(app, resolver, clock.now() + timedelta(days=day))
    found = [(e.fields, e.from_status, e.to_status) for e in events(case.id, "removal_check")]
    assert found == [
        ({"status_code": 200, "outcome": "live"}, "notice_sent", "notice_sent"),
        ({"status_code": 500, "outcome": "other"}, "notice_sent", "notice_sent"),
        ({"status_code": 200, "outcome": "live"}, "notice_sent", "notice_sent"),
    ]
    assert len(checks(case.id)) == 5


def test_at_most_per_host_checks_a_run(app, clock, site, resolver):
    app.config["URL_CHECK_PER_HOST"] = 2
    busy = [factories.case("notice_sent", url=site.url(f"/ok?n={i}")) for i in range(5)]
    quiet = [
        factories.case("notice_sent", url=site.url(f"/ok?q={i}", "other.test")) for i in (1, 2)
    ]
    summary = run(app, resolver, clock.now())
    assert (summary.checked, summary.due) == (4, 7)
    assert "3 left for a later run" in summary.line()
    counted = {
        host: len([s for s in site.requests if s.headers["Host"].startswith(host)])
        for host in ("site.test", "other.test")
    }
    assert counted == {"site.test": 2, "other.test": 2}
    # The next run takes the ones left, the never-checked first.
    summary = run(app, resolver, clock.now() + timedelta(minutes=5))
    assert summary.checked == 2
    run(app, resolver, clock.now() + timedelta(minutes=10))
    assert all(len(checks(case.id)) == 1 for case in busy + quiet)


def test_the_oldest_checked_go_first(app, clock, site, resolver):
    app.config["URL_CHECK_PER_HOST"] = 1
    first, second = (factories.case("notice_sent", url=site.url(f"/ok?{i}")) for i in (1, 2))
    run(app, resolver, clock.now())  # checks the first (lower id)
    run(app, resolver, clock.now() + timedelta(hours=1))  # the second, never checked
    site.requests.clear()
    run(app, resolver, clock.now() + timedelta(days=2))  # both due: the first was checked earlier
    assert [seen.path for seen in site.requests] == ["/ok?1"]
    assert [len(checks(first.id)), len(checks(second.id))] == [2, 1]


def test_batches_commit_one_by_one(app, clock, site, resolver):
    app.config["URL_CHECK_BATCH"] = 2
    cases = [factories.case("notice_sent", url=site.url(f"/ok?{i}")) for i in range(5)]
    summary = run(app, resolver, clock.now())
    assert summary.checked == 5 and summary.failed == 0
    assert db.session.scalar(select(func.count(UrlCheck.id))) == len(cases)


def test_the_run_cap(app, clock, site, resolver):
    app.config["URL_CHECK_MAX_PER_RUN"] = 3
    for i in range(5):
        factories.case("notice_sent", url=site.url(f"/ok?{i}", ("site.test", "other.test")[i % 2]))
    summary = run(app, resolver, clock.now())
    assert (summary.checked, summary.due) == (3, 5)


def test_a_hanging_host_costs_its_own_checks_only(app, clock, site, resolver, hanging):
    app.config["URL_CHECK_TIMEOUT"] = 0.5
    stuck = factories.case("notice_sent", url=f"http://third.test:{hanging}/x")
    fine = factories.case("notice_sent", url=site.url("/404"))
    summary = run(app, resolver, clock.now())
    assert summary.outcomes == {"error": 1, "gone": 1}
    (check,) = checks(stuck.id)
    assert (check.outcome, check.error, check.status_code) == (
        "error",
        "no answer within 0.5 s",
        None,
    )
    assert checks(fine.id)[0].outcome == "gone"


def test_private_addresses_refused_by_default(app, clock, site, resolver):
    app.config["URL_CHECK_ALLOW_PRIVATE"] = False
    case = factories.case("notice_sent", url=site.url("/404"))
    for day in (0, 1):
        run(app, resolver, clock.now() + timedelta(days=day))
    assert [c.outcome for c in checks(case.id)] == ["refused", "refused"]
    assert site.requests == []
    db.session.expire_all()
    assert db.session.get(Case, case.id).removal_reported_at is None


def test_redirects_recorded(app, clock, site, resolver):
    looping = factories.case("notice_sent", url=site.url("/loop-a"))
    moved = factories.case("notice_sent", url=site.url("/to-404"))
    run(app, resolver, clock.now())
    (loop,) = checks(looping.id)
    assert (loop.outcome, loop.redirects, loop.status_code) == ("too_many_redirects", 1, 302)
    assert loop.error.startswith("redirects in a loop")
    (gone,) = checks(moved.id)
    assert (gone.outcome, gone.redirects, gone.final_location) == ("gone", 1, site.url("/404"))


def test_a_case_that_moved_on_while_checked_is_recorded_not_reported(
    app, clock, site, resolver, monkeypatch
):
    """The provider reported the removal between the reading and the recording."""
    case = factories.case("notice_sent", url=site.url("/404"))
    run(app, resolver, clock.now())
    real = url_checks.probe_batch

    def meanwhile(pool, batch, settings):
        results = real(pool, batch, settings)
        moved = db.session.get(Case, case.id)
        moved.removal_reported_at = clock.now()
        moved.removal_reported_by = "provider"
        db.session.commit()
        return results

    monkeypatch.setattr(url_checks, "probe_batch", meanwhile)
    summary = run(app, resolver, clock.now() + timedelta(days=1))
    assert summary.counts["reported"] == 0 and summary.failed == 0
    assert len(checks(case.id)) == 2
    db.session.expire_all()
    assert db.session.get(Case, case.id).removal_reported_by == "provider"


def test_a_failing_report_fails_alone(app, clock, site, resolver, monkeypatch):
    broken = factories.case("notice_sent", url=site.url("/404"))
    fine = factories.case("notice_sent", url=site.url("/410"))
    run(app, resolver, clock.now())
    from casemgr.checks import services

    real = services.report_removal

    def fail_one(session, case, first, **kwargs):
        if case.id == broken.id:
            raise RuntimeError("database said no")
        return real(session, case, first, **kwargs)

    monkeypatch.setattr(services, "report_removal", fail_one)
    summary = run(app, resolver, clock.now() + timedelta(days=1))
    assert summary.counts["reported"] == 1
    assert summary.failures == [f"report_removal on {broken.reference}: database said no"]
    db.session.expire_all()
    assert db.session.get(Case, fine.id).removal_reported_at is not None
    assert db.session.get(Case, broken.id).removal_reported_at is None
    assert len(checks(broken.id)) == 2  # its check stands


def test_three_confirmations_when_configured(app, clock, site, resolver):
    app.config["URL_CHECK_CONFIRMATIONS"] = 3
    case = factories.case("notice_sent", url=site.url("/404"))
    for day in range(3):
        run(app, resolver, clock.now() + timedelta(days=day))
        db.session.expire_all()
        reported = db.session.get(Case, case.id).removal_reported_at
        assert (reported is not None) == (day == 2)
    assert reported == clock.now()


def test_the_summary_line(app, clock, site, resolver):
    factories.case("notice_sent", url=site.url("/404"))
    factories.case("notice_sent", url=site.url("/ok"))
    summary = run(app, resolver, clock.now())
    assert summary.line() == (
        "url_checks as of 2026-11-28T09:00:00+00:00: 2 checked (gone 1, live 1); "
        "0 removals reported; 2 outcome changes; 0 left for a later run; 0 failed"
    )


def test_what_a_hostile_server_sends_is_cleaned_and_capped(app, clock, site, resolver):
    """A 5,000-character Location, and one with NUL and control bytes (PostgreSQL
    refuses NUL in text): stored without them, capped at the column's length."""
    long = factories.case("notice_sent", url=site.url("/long-redirect"))
    nul = factories.case("notice_sent", url=site.url("/nul-redirect"))
    summary = run(app, resolver, clock.now())
    assert summary.failed == 0
    (check,) = checks(long.id)
    assert check.outcome == "gone" and len(check.final_location) == 2048
    assert check.final_location.endswith("…")
    assert "/404?" + "a" * 5000 in [seen.path for seen in site.requests]  # followed whole
    (check,) = checks(nul.id)
    assert check.outcome == "gone"
    assert "\x00" not in check.final_location and "\x7f" not in check.final_location
    assert check.final_location.endswith("-end")
