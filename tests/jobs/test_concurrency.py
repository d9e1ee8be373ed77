"""No letter twice, when two processes run a job at the same moment.

Real concurrent runs on PostgreSQL: two threads, each with its own app
context, session and connection, start the same job at the same moment over
the same data (a slow renderer keeps their batches overlapping). Then the
layers of the guarantee (see casemgr/notices/locks.py) are taken away one
by one to show that each remaining one still holds.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from casemgr.cases.models import Case
from casemgr.extensions import db
from casemgr.jobs import base as jobs_base
from casemgr.jobs import notices as notices_job
from casemgr.jobs import reminders as reminders_job
from casemgr.notices import locks
from casemgr.notices.models import Notice, NoticeCase
from casemgr.notices.pdf.layout import render_letter
from tests.conftest import NOW
from tests.jobs.conftest import letters, links, run_notices

PROVIDERS = 6
CASES_PER_PROVIDER = 4


def slow_renderer(letter, letterhead):
    time.sleep(0.05)
    return render_letter(letter, letterhead)


def run_at_once(app, job, now, runs: int = 2):
    """Run ``job`` in ``runs`` threads released together; their summaries and errors."""
    barrier = threading.Barrier(runs)
    summaries, errors = [], []

    def worker():
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                summaries.append(job.run(db.session, now, app, renderer=slow_renderer))
            except Exception as exc:  # pragma: no cover - reported by the assertion
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(summaries) == runs
    return summaries


@pytest.fixture
def pending(app, backend, make, queue):
    if backend != "postgresql":
        pytest.skip("needs concurrent writers: PostgreSQL")
    providers = [make.organisation(name=f"Provider {i}") for i in range(PROVIDERS)]
    for provider in providers:
        for _ in range(CASES_PER_PROVIDER):
            queue(provider)
    ids = [p.id for p in providers]
    db.session.remove()
    return ids


def assert_each_case_covered_once(kind: str) -> None:
    covered = Counter(link.case_id for link in links() if link.kind == kind)
    assert len(covered) == PROVIDERS * CASES_PER_PROVIDER
    assert set(covered.values()) == {1}


@pytest.mark.postgres
def test_two_notice_runs_at_once_make_one_letter_per_provider(app, pending):
    summaries = run_at_once(app, notices_job, NOW)

    assert [s.failed for s in summaries] == [0, 0]
    assert sum(s.letter_count for s in summaries) == PROVIDERS
    # the runs really overlapped: each found letters the other was writing
    assert sum(s.counts["busy"] for s in summaries) > 0
    per_provider = Counter(n.recipient_id for n in letters("notice"))
    assert per_provider == {provider_id: 1 for provider_id in pending}
    assert_each_case_covered_once("notice")
    statuses = set(db.session.scalars(select(Case.status)).all())
    assert statuses == {"notice_sent"}
    # the references are a gapless series: no number taken by a rolled-back letter
    assert sorted(n.reference for n in letters()) == [
        f"CM-N-2026-{i:06d}" for i in range(1, PROVIDERS + 1)
    ]


@pytest.mark.postgres
def test_three_notice_runs_at_once(app, pending):
    summaries = run_at_once(app, notices_job, NOW, runs=3)
    assert sum(s.failed for s in summaries) == 0
    assert Counter(n.recipient_id for n in letters("notice")) == {
        provider_id: 1 for provider_id in pending
    }
    assert_each_case_covered_once("notice")


@pytest.mark.postgres
def test_without_advisory_locks_row_locks_still_cover_each_case_once(app, pending, monkeypatch):
    monkeypatch.setattr(jobs_base, "try_lock", lambda *args: True)
    summaries = run_at_once(app, notices_job, NOW)
    assert sum(s.failed for s in summaries) == 0
    assert_each_case_covered_once("notice")
    assert set(db.session.scalars(select(Case.status)).all()) == {"notice_sent"}


@pytest.mark.postgres
def test_without_any_lock_the_database_still_refuses_a_second_letter(app, pending, monkeypatch):
    """No advisory lock, no FOR UPDATE: both runs read the same pending cases
    and write letters; the version check on the cases (and behind it the
    unique key of notice_cases) makes the later one fail and roll back whole."""

    def no_lock(session, ids, *conditions):
        return list(
            session.scalars(
                select(Case).where(Case.id.in_(sorted(set(ids))), *conditions).order_by(Case.id)
            ).all()
        )

    monkeypatch.setattr(jobs_base, "try_lock", lambda *args: True)
    monkeypatch.setattr(locks, "lock_cases", no_lock)
    summaries = run_at_once(app, notices_job, NOW)

    assert_each_case_covered_once("notice")
    assert Counter(n.recipient_id for n in letters("notice")) == {
        provider_id: 1 for provider_id in pending
    }
    failures = [f for s in summaries for f in s.failures]
    assert all(("StaleDataError" in f or "IntegrityError" in f) for f in failures), failures
    assert sum(s.letter_count for s in summaries) == PROVIDERS


@pytest.mark.postgres
def test_two_reminder_runs_at_once_send_one_reminder_each(app, pending):
    run_notices(app, NOW)
    db.session.remove()
    due = NOW + timedelta(hours=72)

    summaries = run_at_once(app, reminders_job, due)

    assert [s.failed for s in summaries] == [0, 0]
    assert Counter(n.recipient_id for n in letters("reminder")) == {
        provider_id: 1 for provider_id in pending
    }
    assert_each_case_covered_once("reminder")
    counts = set(db.session.scalars(select(Case.reminder_count)).all())
    assert counts == {1}


def test_the_unique_key_refuses_a_second_letter_for_the_same_step(app, make, queue):
    case = queue(make.organisation())
    run_notices(app, NOW)
    (link,) = links()
    copy = Notice(
        reference="CM-N-2026-999999",
        kind="notice",
        recipient_kind="hosting_provider",
        recipient_name="Copy",
        recipient_address="",
        language="en",
        manual_delivery=False,
        case_count=1,
        pdf=b"%PDF-",
        sha256="0" * 64,
        size=5,
        created_at=NOW,
        links=[NoticeCase(case_id=case.id, kind="notice", step_at=link.step_at)],
    )
    db.session.add(copy)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    assert len(letters()) == 1
