"""The reminder sweep and a year's figures on a database of ``bench/generate_cases.py``.

    .venv/bin/python bench/scale.py --db-url postgresql://postgres@127.0.0.1:5432/bench_10m \\
        --now 2026-12-01T12:00:00Z [--runs 3] [--explain]

Made to compare the same work at 1M and 10M cases (issue 17, "Ten million
cases"); ``--now`` is the generator's ``--now``. In-process, with the app's
production settings and a fixed clock:

- **the reminder sweep**: ``casemgr.jobs.reminders.run`` once, as the
  scheduler runs it, at ``--now`` (nothing is due: the generator serves every
  reminder up to ``--now``) and at ``--now`` + 1 hour (the reminders,
  escalations and hold reviews that fall due in that hour: four runs of the
  15-minute schedule's worth). Each run is inside an outer transaction that
  is rolled back (the job's commits become savepoints), so the database is the
  same for every run; the letters are rendered for real. Also the sweep's own
  read, ``due_for_reminder``, alone.
- **a year's figures**: ``casemgr.stats.figures.compute_figures`` for the
  calendar year before ``--now``'s year, per-analyst figures included (what
  the statistics page runs), and for the last full month.

The sweep needs PostgreSQL (on SQLite, pysqlite's deferred BEGIN would let
the job's commits through); the figures run on both. For each: median
(min-max) of ``--runs`` runs after one warm-up, the statements sent, and the
load average. ``--explain`` prints EXPLAIN (ANALYZE,
BUFFERS) of the sweep's read and of the year's three slowest statements (with
``casemgr.stats.sql.REPORTING_SETTINGS``, as ``compute_figures`` runs them).
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def parse_now(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Statements:
    """Counts (and times) the statements sent while ``on``."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.on = False
        self.count = 0
        self.times: dict[str, float] = defaultdict(float)
        self.sql: dict[str, tuple] = {}
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_t0"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if not self.on:
            return
        self.count += 1
        key = " ".join(statement.split())[:90]
        self.times[key] += (time.perf_counter() - conn.info["bench_t0"]) * 1000
        self.sql[key] = (statement, parameters)

    def reset(self) -> None:
        self.count = 0
        self.times.clear()
        self.sql.clear()


def measure(fn, runs: int, statements: Statements) -> dict:
    fn()  # warm-up
    times, counts, loads = [], [], [os.getloadavg()[0]]
    result = None
    for _ in range(runs):
        statements.reset()
        statements.on = True
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
        statements.on = False
        counts.append(statements.count)
        loads.append(os.getloadavg()[0])
    return {"ms": times, "statements": counts, "load": loads, "result": result}


def fmt(values: list[float]) -> str:
    return f"{statistics.median(values):,.1f} ms ({min(values):,.1f}–{max(values):,.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--now", type=parse_now, required=True, help="the generator's --now")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--skip", default="", help="comma-separated: sweep, figures")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))

    os.environ["DATABASE_URL"] = args.db_url
    from sqlalchemy import func, select, text
    from sqlalchemy.orm import Session

    from casemgr import create_app
    from casemgr.cases.models import Case
    from casemgr.clock import FixedClock
    from casemgr.extensions import db
    from casemgr.jobs import reminders
    from casemgr.notices.reminders import due_for_reminder
    from casemgr.notices.wording import NoticeSettings
    from casemgr.stats import sql as stats_sql
    from casemgr.stats.figures import compute_figures
    from casemgr.stats.selection import Period

    now = args.now
    app = create_app({"SQLALCHEMY_DATABASE_URI": args.db_url}, clock=FixedClock(now))
    print(f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"- command: `{shlex.join([os.path.relpath(sys.executable), *sys.argv])}`")
    with app.app_context():
        engine = db.engine
        statements = Statements(engine)
        with Session(engine) as session:
            total = session.scalar(select(func.count()).select_from(Case))
            open_cases = session.scalar(select(func.count()).where(Case.status != "closed"))
            chased = session.scalar(select(func.count()).where(Case.next_reminder_at.is_not(None)))
        print(
            f"- data: {total:,} cases, {open_cases:,} open, {chased:,} with a next reminder; "
            f"{engine.dialect.name}; load average {os.getloadavg()[0]:.2f} at start\n"
        )
        settings = NoticeSettings.from_app(app)
        rows = []

        def rolled_back(work):
            """``work(session)`` in an outer transaction that is rolled back."""

            def call():
                with engine.connect() as connection:
                    outer = connection.begin()
                    session = Session(bind=connection, join_transaction_mode="create_savepoint")
                    try:
                        return work(session)
                    finally:
                        session.close()
                        outer.rollback()

            return call

        if "sweep" not in skip and engine.dialect.name != "postgresql":
            # pysqlite's deferred BEGIN lets the job's savepoints commit for real:
            # the first run would change the database under the next ones.
            raise SystemExit("the sweep is measured on PostgreSQL only: add --skip sweep")
        if "sweep" not in skip:
            for label, at in (("at --now", now), ("at --now + 1 h", now + timedelta(hours=1))):
                with Session(engine) as session:
                    due = len(due_for_reminder(session, at, settings))
                result = measure(
                    rolled_back(lambda s, at=at: len(due_for_reminder(s, at, settings))),
                    args.runs,
                    statements,
                )
                rows.append((f"sweep's read (due_for_reminder) {label}", due, result))
                result = measure(
                    rolled_back(lambda s, at=at: reminders.run(s, at, app)),
                    args.runs,
                    statements,
                )
                summary = result["result"]
                if summary.failed:
                    raise SystemExit(f"the sweep failed: {summary.failures}")
                note = summary.line().split(": ", 1)[1]
                rows.append((f"reminder sweep (jobs.reminders.run) {label}", due, result, note))
            if args.explain:
                due_sql = statements_of(
                    engine,
                    statements,
                    rolled_back,
                    due_for_reminder,
                    now + timedelta(hours=1),
                    settings,
                )
                explain(engine, *due_sql)

        if "figures" not in skip:
            year = now.year - 1
            month_end = date(now.year, now.month, 1) - timedelta(days=1)
            periods = {
                f"year {year}": Period(date(year, 1, 1), date(year, 12, 31)),
                f"month {month_end:%Y-%m}": Period.month(month_end.year, month_end.month),
            }
            for label, period in periods.items():
                with Session(engine) as session:
                    cohort = session.scalar(
                        select(func.count()).where(
                            Case.received_at >= period.start_at, Case.received_at < period.end_at
                        )
                    )
                result = measure(
                    rolled_back(
                        lambda s, period=period: compute_figures(
                            s, period, now=now, include_analysts=True
                        )
                    ),
                    args.runs,
                    statements,
                )
                result["result"] = None
                rows.append((f"figures, {label} (compute_figures, per analyst)", cohort, result))
                if args.explain and label.startswith("year"):
                    slowest = sorted(statements.times.items(), key=lambda kv: -kv[1])[:3]
                    print("Slowest statements of the year (ms, last run):")
                    for key, ms in slowest:
                        print(f"  {ms:8.1f}  {key}")
                    for key, _ in slowest:
                        explain(engine, *statements.sql[key], stats_sql.REPORTING_SETTINGS)

        print(f"{args.runs} runs after one warm-up; median (min–max)\n")
        print("| what | cases concerned | time | statements | load (1 min), start → end | notes |")
        print("|---|---|---|---|---|---|")
        for label, concerned, result, *extra in rows:
            notes = extra[0] if extra else ""
            loads = f"{result['load'][0]:.2f} → {result['load'][-1]:.2f}"
            print(
                f"| {label} | {concerned:,} | {fmt(result['ms'])} | "
                f"{statistics.median(result['statements']):.0f} | {loads} | {notes} |"
            )
        with engine.connect() as connection:
            size = (
                connection.execute(
                    text("SELECT pg_size_pretty(pg_database_size(current_database()))")
                ).scalar()
                if engine.dialect.name == "postgresql"
                else "?"
            )
        if size != "?":
            print(f"\n- database size: {size}")


def statements_of(engine, statements, rolled_back, due_for_reminder, now, settings):
    """The due_for_reminder statement and its parameters, as the sweep sends it."""
    statements.reset()
    statements.on = True
    rolled_back(lambda s: due_for_reminder(s, now, settings))()
    statements.on = False
    return next(
        (statement, parameters)
        for statement, parameters in statements.sql.values()
        if statement.lstrip().startswith("SELECT") and "next_reminder_at <=" in statement
    )


def explain(engine, statement, parameters, settings: dict | None = None) -> None:
    """EXPLAIN (ANALYZE, BUFFERS), with the session settings the app's run had."""
    with engine.connect() as connection:
        for name, value in (settings or {}).items():
            connection.exec_driver_sql(f"SET LOCAL {name} = '{value}'")
        plan = connection.exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
        ).all()
    print(f"\n    {' '.join(statement.split())[:400]}\n    -- {parameters}")
    print("\n".join("    " + row[0] for row in plan) + "\n")


if __name__ == "__main__":
    main()
