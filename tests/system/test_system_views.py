"""The System page and the banner on staff pages, per role."""

from __future__ import annotations

from datetime import timedelta

import pytest

from casemgr.jobs import cli as jobs_cli
from casemgr.jobs import scheduler
from casemgr.system import banner
from tests.conftest import NOW, login
from tests.jobs.test_runs import add_run, broken

SCHEDULE = {"notices": {"minutes": 15}, "outbox": {"minutes": 1}, "url_checks": {"hours": 6}}


@pytest.fixture
def app_config():
    return {"SCHEDULE": SCHEDULE}


def all_fine() -> None:
    add_run("notices", "succeeded", NOW - timedelta(minutes=10))
    add_run("outbox", "succeeded", NOW - timedelta(seconds=30))


def page(client, path="/cases/"):
    answer = client.get(path)
    assert answer.status_code == 200, answer.status_code
    return answer.get_data(as_text=True)


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_the_system_page_lists_every_job(app, make, role, monkeypatch):
    all_fine()
    monkeypatch.setitem(jobs_cli.JOBS, "notices", broken)
    scheduler.run_job(app, "notices")
    html = page(login(app.test_client(), make.user(role)), "/system/")
    assert "RuntimeError: the job broke" in html  # the crash, with its error
    assert 'class="job-failed" id="job-notices"' in html
    assert 'class="job-ok" id="job-outbox"' in html
    assert "0 letters" not in html  # a crashed run did nothing it could count
    assert 'class="job-off" id="job-url_checks"' in html
    assert "Off: URL_CHECKS_ENABLED is not set" in html
    assert "15 min" in html


def test_the_system_page_says_when_the_scheduler_never_ran(app, supervisor):
    html = page(login(app.test_client(), supervisor), "/system/")
    assert "The scheduler has never run" in html
    assert 'class="job-never_ran" id="job-notices"' in html


def test_the_system_page_is_refused_to_analysts(app, analyst):
    answer = login(app.test_client(), analyst).get("/system/")
    assert answer.status_code == 403


def test_the_system_page_needs_a_sign_in(app, client):
    answer = client.get("/system/")
    assert answer.status_code == 302 and answer.location.startswith("/login")


def test_the_menu_links_the_system_page_for_supervisors_and_admins_only(app, make):
    for role, shown in (("analyst", False), ("supervisor", True), ("admin", True)):
        html = page(login(app.test_client(), make.user(role)))
        assert ('href="/system/"' in html) is shown, role


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_the_banner_names_a_late_or_failed_job(app, make, role):
    add_run("notices", "failed", NOW - timedelta(minutes=1), error="E: x")
    add_run("outbox", "succeeded", NOW - timedelta(minutes=5))
    html = page(login(app.test_client(), make.user(role)))
    assert "Scheduled jobs need attention:" in html
    assert "<strong>notices</strong> (Failed), <strong>outbox</strong> (Late)." in html
    assert 'href="/system/">See the System page' in html


def test_the_banner_says_the_scheduler_never_ran(app, supervisor):
    html = page(login(app.test_client(), supervisor))
    assert "The scheduler has never run" in html


def test_no_banner_for_analysts_even_when_jobs_are_late(app, analyst):
    html = page(login(app.test_client(), analyst))
    assert "job-banner" not in html and "never run" not in html


def test_no_banner_when_all_is_well(app, supervisor):
    all_fine()
    html = page(login(app.test_client(), supervisor))
    assert "job-banner" not in html


def test_no_banner_on_the_public_pages(app, client):
    assert "job-banner" not in page(client, "/report")


def test_the_banner_is_asked_once_per_cache_period(app, supervisor, clock):
    """Within JOB_STATUS_CACHE_SECONDS the answer comes from memory: a job
    that has run since shows only after it."""
    client = login(app.test_client(), supervisor)
    assert "never run" in page(client)
    all_fine()
    assert "never run" in page(client)
    clock.advance(seconds=31)
    add_run("notices", "succeeded", clock.now())
    add_run("outbox", "succeeded", clock.now())
    assert "job-banner" not in page(client)


def test_the_banner_costs_no_query_while_cached(app, supervisor):
    from sqlalchemy import event

    from casemgr.extensions import db

    client = login(app.test_client(), supervisor)
    page(client)  # fills the cache
    statements = []

    def listener(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        page(client)
        cached = [s for s in statements if "job_runs" in s]
        banner.forget(app)
        page(client)
        fresh = [s for s in statements if "job_runs" in s]
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert cached == []
    assert len(fresh) == 1
