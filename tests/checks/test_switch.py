"""Off by default: the job does nothing and says so, the scheduler leaves it out;
on, ``jobs run url_checks`` checks."""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from casemgr.checks.models import UrlCheck
from casemgr.extensions import db
from casemgr.jobs import scheduler, url_checks
from tests import factories


def count_checks() -> int:
    return db.session.scalar(select(func.count(UrlCheck.id)))


def test_off_by_default(app):
    assert app.config["URL_CHECKS_ENABLED"] is False
    assert app.config["URL_CHECK_ALLOW_PRIVATE"] is False


def test_the_job_does_nothing_while_off(app, clock, site, resolver):
    factories.case("notice_sent", url=site.url("/404"))
    summary = url_checks.run(db.session, clock.now(), app, resolver=resolver)
    assert summary.disabled and summary.checked == 0
    assert count_checks() == 0
    assert site.requests == [] and resolver.asked == []


def test_jobs_run_says_plainly_that_it_is_off(app, runner, site):
    factories.case("notice_sent", url=site.url("/404"))
    result = runner.invoke(args=["jobs", "run", "url_checks", "--now", "2026-11-28T10:00Z"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "url_checks as of 2026-11-28T10:00:00+00:00: disabled: URL_CHECKS_ENABLED is False, "
        "nothing was checked (see docs/removal-check.md before turning it on)"
    ]
    assert count_checks() == 0 and site.requests == []


def test_the_scheduler_leaves_it_out_while_off(app, caplog):
    schedule = scheduler.intervals(app.config["SCHEDULE"])
    assert "url_checks" in schedule
    built = scheduler.build_scheduler(app, schedule)
    try:
        built.start(paused=True)
        assert "url_checks" not in {job.id for job in built.get_jobs()}
        assert "notices" in {job.id for job in built.get_jobs()}
    finally:
        built.shutdown(wait=False)
    app.config["URL_CHECKS_ENABLED"] = True
    built = scheduler.build_scheduler(app, schedule)
    try:
        built.start(paused=True)
        assert "url_checks" in {job.id for job in built.get_jobs()}
    finally:
        built.shutdown(wait=False)


def test_run_job_logs_that_it_is_off(app, caplog):
    with caplog.at_level(logging.INFO, logger="casemgr.jobs"):
        summary = scheduler.run_job(app, "url_checks")
    assert summary.disabled
    assert "url_checks as of 2026-11-28T09:00:00+00:00: disabled" in caplog.text


def test_jobs_run_checks_when_on(app, runner, site, resolver):
    app.config.update(URL_CHECKS_ENABLED=True, URL_CHECK_ALLOW_PRIVATE=True)
    app.extensions[url_checks.RESOLVER_KEY] = resolver
    factories.case("notice_sent", url=site.url("/404"))
    result = runner.invoke(args=["jobs", "run", "url_checks", "--now", "2026-11-28T10:00Z"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        "url_checks as of 2026-11-28T10:00:00+00:00: 1 checked (gone 1); 0 removals reported"
    )
    assert count_checks() == 1
    assert [seen.method for seen in site.requests] == ["HEAD"]
