"""Two outbox runs at the same moment on PostgreSQL never send one message twice.

Real concurrency: two threads, each with its own app context, session and
connection (and its own SMTP connection), released together over the same
queue, against a server that answers slowly enough for them to overlap.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import select

from casemgr.extensions import db
from casemgr.jobs import outbox as outbox_job
from casemgr.notices.models import Notice
from casemgr.outbox.models import SENT
from tests.conftest import NOW
from tests.jobs.conftest import run_notices
from tests.outbox.conftest import messages

LETTERS = 30


@pytest.fixture
def queued(app, backend, make, queue):
    if backend != "postgresql":
        pytest.skip("needs concurrent writers: PostgreSQL")
    for number in range(LETTERS):
        queue(make.organisation(name=f"Host {number}", email=f"abuse@host{number}.example"))
    run_notices(app, NOW)
    assert len(messages()) == LETTERS
    db.session.remove()


def run_at_once(app, runs: int):
    barrier = threading.Barrier(runs)
    summaries, errors = [], []

    def worker():
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                summaries.append(outbox_job.run(db.session, NOW, app, monotonic=lambda: 0.0))
                db.session.commit()
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
    return summaries


@pytest.mark.postgres
@pytest.mark.parametrize("runs", [2, 3])
def test_runs_at_once_send_each_message_exactly_once(
    app, queued, smtp, recorder, runs, monkeypatch
):
    monkeypatch.setattr(outbox_job, "CLAIM_SIZE", 4)  # small claims: more of them to race
    recorder.data_delay = 0.01
    smtp.start()
    summaries = run_at_once(app, runs)

    sent = [s.counts["sent"] for s in summaries]
    assert sum(sent) == LETTERS
    assert all(count > 0 for count in sent), sent  # they really ran side by side
    per_id = Counter(smtp.handler.message_ids())
    assert len(per_id) == LETTERS and set(per_id.values()) == {1}
    rows = messages()
    assert {row.status for row in rows} == {SENT}
    assert {row.attempts for row in rows} == {1}
    assert sorted(per_id) == sorted(row.message_id for row in rows)
    assert db.session.scalar(select(Notice).where(Notice.sent_at.is_(None))) is None
