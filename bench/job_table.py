"""The job table (/healthz, the System page, the staff banner) over 90 days of runs.

Fills ``job_runs`` as the default SCHEDULE would in ``--days`` days (the
outbox every minute: 129,600 rows for 90 days; about 160,000 in all), then
times ``job_table`` (one query: two index probes per job) beside a bare
``SELECT 1`` on the same session, in process CPU time per call: median and
spread of ``--runs`` runs of ``--calls`` calls.

    .venv/bin/python bench/job_table.py --db sqlite
    .venv/bin/python bench/job_table.py --db postgres --pg-url postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sqlalchemy as sa  # noqa: E402

from casemgr import create_app  # noqa: E402
from casemgr.clock import FixedClock  # noqa: E402
from casemgr.extensions import db  # noqa: E402
from casemgr.jobs.health import job_table  # noqa: E402
from casemgr.jobs.models import JobRun  # noqa: E402
from casemgr.jobs.scheduler import intervals  # noqa: E402
from config import Config  # noqa: E402

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def fill(days: int) -> int:
    rows = []
    for name, interval in intervals(Config.SCHEDULE).items():
        at = NOW - timedelta(days=days)
        while at < NOW:
            outcome = (
                "failed" if name == "partners" and at > NOW - timedelta(hours=1) else "succeeded"
            )
            rows.append(
                {"job": name, "trigger": "scheduler", "started_at": at, "finished_at": at,
                 "as_of": at, "outcome": outcome, "summary": "0 letters; 0 cases; 0 failed",
                 "error": None}
            )  # fmt: skip
            at += interval
    rows.sort(key=lambda row: row["started_at"])
    for start in range(0, len(rows), 10000):
        db.session.execute(sa.insert(JobRun), rows[start : start + 10000])
    db.session.commit()
    return len(rows)


def per_call(work, calls: int) -> float:
    started = time.process_time()
    for _ in range(calls):
        work()
    return (time.process_time() - started) / calls * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", ""))
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()

    admin = name = None
    if args.db == "postgres":
        base = args.pg_url.replace("postgresql://", "postgresql+psycopg://", 1)
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        name = f"bench_jobruns_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.make_url(base).set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    try:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url}, clock=FixedClock(NOW))
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            count = fill(args.days)
            if args.db == "postgres":
                db.session.execute(sa.text("ANALYZE job_runs"))
                db.session.commit()
            table = job_table(db.session, app.config, NOW)
            assert [s.job for s in table if s.needs_attention] == ["partners"], table
            bare, full = [], []
            for _ in range(args.runs):
                bare.append(
                    per_call(lambda: db.session.execute(sa.text("SELECT 1")).all(), args.calls)
                )
                full.append(per_call(lambda: job_table(db.session, app.config, NOW), args.calls))
                db.session.rollback()
            db.engine.dispose()
    finally:
        if admin is not None:
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

    def show(values):
        return f"{statistics.median(values):.3f} ms ({min(values):.3f}–{max(values):.3f})"

    print(
        f"{args.db}: {count} runs over {args.days} days; "
        f"CPU per call, median (min–max) of {args.runs}x{args.calls}"
    )
    print(f"  SELECT 1 (baseline): {show(bare)}")
    print(f"  job_table:           {show(full)}")
    print(
        f"  ratio: {statistics.median(full) / statistics.median(bare):.1f}x; "
        f"load average {os.getloadavg()}"
    )


if __name__ == "__main__":
    main()
