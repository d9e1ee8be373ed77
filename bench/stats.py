"""Benchmark: the statistics figures over 1,000,000 cases on PostgreSQL.

    .venv/bin/python bench/stats.py [--cases 1000000] [--runs 3] [--regenerate] [--explain]

Uses its own database (BENCH_STATS_URL, default
postgresql://postgres@127.0.0.1:5432/casemgr_bench_stats): creates it, builds
the schema with ``flask --app wsgi db upgrade``, and fills it once with bulk
SQL (INSERT ... SELECT over generate_series; no ORM objects): staff,
providers in 30 countries, submissions, cases over 2024-01-01..2026-11-28 in
every state with realistic delays, and their case events (receive, assign,
assess, first action, removal). A later run reuses the data when the count
matches (``--regenerate`` forces a rebuild).

Then times ``compute_figures`` (what the dashboard runs, per-analyst figures
included) for the year 2025, one month and the whole range: a warm-up, then
``--runs`` runs; median (min-max). Also without the session settings of
``casemgr.stats.sql.REPORTING_SETTINGS``, and without the indexes of migrations
0004 and 0023 (dropped inside a transaction that is rolled back), to justify both.
Beside it, in the same runs, a bare baseline: the raw SQL a hand-written
report needs at least (one count over the year, one percentile_cont of
notice-to-removal), and the ratio.
``--explain`` prints EXPLAIN (ANALYZE, BUFFERS) of the slowest statements, run
with the reporting settings as compute_figures runs them.
Target: the year's figures in under 1 s (median; issue 17).
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from casemgr import create_app  # noqa: E402
from casemgr.clock import FixedClock  # noqa: E402
from casemgr.extensions import db  # noqa: E402
from casemgr.stats import sql as stats_sql  # noqa: E402
from casemgr.stats.figures import compute_figures  # noqa: E402
from casemgr.stats.selection import Period  # noqa: E402

URL = os.environ.get("BENCH_STATS_URL", "postgresql://postgres@127.0.0.1:5432/casemgr_bench_stats")
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
START = datetime(2024, 1, 1, tzinfo=UTC)
# Added by migrations/versions/0004_statistics_indexes.py (its index of assess
# events went with 0008, which put the assessor on the case; its index of notices
# became 0023's, which also holds received_at and removed_at).
STATS_INDEXES = ("ix_cases_received_at", "ix_cases_notice_cohort")
COUNTRIES = [
    "US",
    "NL",
    "DE",
    "FR",
    "RU",
    "GB",
    "CA",
    "KH",
    "JP",
    "SG",
    "HK",
    "UA",
    "BG",
    "RO",
    "SE",
    "LU",
    "CZ",
    "PL",
    "IT",
    "ES",
    "TR",
    "BR",
    "IN",
    "VN",
    "TH",
    "MY",
    "ID",
    "KR",
    "AU",
    "ZA",
]


def _migrate(url: str) -> None:
    subprocess.run(
        [str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        check=True,
        capture_output=True,
    )


def prepare_database(url: str, *, fresh: bool) -> None:
    """Create the benchmark's database (dropped first when ``fresh``), migrate it to head.

    A fresh database rather than TRUNCATE: the audit log is append-only (its
    triggers refuse TRUNCATE), as it is in production."""
    target = sa.make_url(url.replace("postgresql://", "postgresql+psycopg://"))
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if fresh:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        exists = connection.scalar(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}
        )
        if not exists:
            connection.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
    _migrate(url)


def case_count(url: str) -> int:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as connection:
            return connection.scalar(sa.text("SELECT count(*) FROM cases"))
    finally:
        engine.dispose()


GENERATE = """
SELECT setseed(0.42);

INSERT INTO users (id, email, name, role, password_hash, active, created_at, session_token)
SELECT g, 'staff' || g || '@bench.example.org', 'Staff ' || g,
       CASE WHEN g <= 2 THEN 'supervisor' ELSE 'analyst' END, 'x', true, :start, md5(g::text)
FROM generate_series(1, 12) AS g;

INSERT INTO organisations (id, kind, name, country, email, language, address, notes, active,
                           created_at, forward_by)
SELECT g,
       CASE WHEN g <= 300 THEN 'hosting_provider' WHEN g <= 330 THEN 'hotline' ELSE 'police' END,
       CASE WHEN g <= 300 THEN 'Provider ' || g WHEN g <= 330 THEN 'Hotline ' || g
            ELSE 'Police ' || g END,
       (CAST(:countries AS text[]))[1 + (g - 1) % 30], 'abuse@org' || g || '.example.com',
       'en', '', '', true, :start, 'letter'
FROM generate_series(1, 335) AS g;

INSERT INTO submissions (id, reference, source, received_at, description, feedback_requested)
SELECT s, 'B-S-' || s, 'public',
       :start + make_interval(secs => (s - 1) * :span / :nsub), '', false
FROM generate_series(1, :nsub) AS s;

INSERT INTO cases (
    id, reference, submission_id, url, url_hash, host, status, resolution, classification,
    media_type, site_type, hosting_country, age_group, assignee_id, assessed_by_id, provider_id,
    partner_id,
    police_id, police_hold, received_at, assessment_due_at, assigned_at, assessed_at,
    first_action_at, notice_requested_at, notice_sent_at, forwarded_at, referred_at,
    hold_since, removed_at, closed_at, due_at, next_reminder_at, reminder_count, updated_at,
    version)
WITH base AS (
    SELECT i, sub,
           :start + make_interval(secs => (sub - 1) * :span / :nsub) AS rec,
           random() AS r1, random() AS r2, random() AS r3, random() AS r4,
           random() AS r5, random() AS r6, random() AS r7, random() AS r8
    FROM (SELECT i, (i - 1)::bigint * :nsub / :n + 1 AS sub
          FROM generate_series(1, :n) AS i) AS numbered
), kinds AS (
    SELECT *,
        CASE WHEN rec > :now - interval '2 days' AND r1 < 0.6 THEN 'fresh'
             WHEN r1 < 0.08 THEN 'duplicate'
             WHEN r1 < 0.17 THEN 'not_illegal'
             WHEN r1 < 0.20 THEN 'out_of_remit'
             WHEN r1 < 0.23 THEN 'content_unavailable'
             ELSE 'illegal' END AS kind,
        CASE WHEN r4 < 0.70 THEN 'notice' WHEN r4 < 0.90 THEN 'forward' ELSE 'police' END
            AS route,
        1 + floor(r3 * r3 * 30)::int AS country_no,
        rec + make_interval(secs => 1800 + r2 * r2 * 172800) AS assessed,
        3 + (i % 10)::int AS analyst
    FROM base
), steps AS (
    SELECT *,
        assessed + make_interval(secs => 1800 + r5 * 86400) AS acted,
        CASE route
            WHEN 'notice' THEN make_interval(secs => 600 + r8 * r8 * r8 * 14 * 86400)
            WHEN 'forward' THEN make_interval(secs => 3600 + r8 * r8 * 20 * 86400)
            ELSE make_interval(secs => 86400 + r8 * 30 * 86400) END AS removal_delay
    FROM kinds
), lives AS (
    SELECT *,
        CASE WHEN route = 'notice' THEN acted + make_interval(secs => r6 * 86400) END AS sent,
        CASE WHEN kind <> 'illegal' THEN NULL
             WHEN route = 'notice' AND r7 < 0.92 THEN
                 acted + make_interval(secs => r6 * 86400) + removal_delay
             WHEN route = 'forward' AND r7 < 0.85 THEN acted + removal_delay
             WHEN route = 'police' AND r7 >= 0.3 THEN acted + removal_delay END AS removed_raw
    FROM steps
), final AS (
    SELECT *,
        CASE WHEN removed_raw <= :now THEN removed_raw END AS removed,
        CASE WHEN kind = 'illegal' AND route = 'notice' AND sent > :now THEN true ELSE false END
            AS pending
    FROM lives
)
SELECT
    i, 'B-' || i, sub,
    'http://host' || (CASE WHEN kind = 'duplicate' THEN i - 1 ELSE i END) % 40000
        || '.example.com/p/' || (CASE WHEN kind = 'duplicate' THEN i - 1 ELSE i END),
    md5('u' || (CASE WHEN kind = 'duplicate' THEN i - 1 ELSE i END))
        || md5('v' || (CASE WHEN kind = 'duplicate' THEN i - 1 ELSE i END)),
    'host' || (CASE WHEN kind = 'duplicate' THEN i - 1 ELSE i END) % 40000 || '.example.com',
    CASE WHEN kind = 'fresh' THEN (CASE WHEN r2 < 0.5 THEN 'new' ELSE 'triage' END)
         WHEN kind <> 'illegal' OR removed IS NOT NULL THEN 'closed'
         WHEN pending THEN 'notice_pending'
         WHEN route = 'notice' THEN 'notice_sent'
         WHEN route = 'forward' THEN 'forwarded'
         ELSE 'with_police' END,
    CASE WHEN kind IN ('duplicate', 'not_illegal', 'out_of_remit', 'content_unavailable')
              THEN kind
         WHEN kind = 'illegal' AND removed IS NOT NULL THEN 'takedown_confirmed' END,
    CASE WHEN kind IN ('not_illegal', 'out_of_remit') THEN kind
         WHEN kind = 'illegal' THEN
             CASE WHEN r5 < 0.8 THEN 'illegal_baseline' ELSE 'illegal_national' END END,
    CASE WHEN kind = 'illegal' THEN (ARRAY['image', 'video', 'mixed'])[1 + floor(r6 * 3)::int]
        END,
    CASE WHEN kind = 'illegal' THEN
        (ARRAY['image_host', 'file_host', 'forum', 'website', 'social', 'blog', 'other'])
            [1 + floor(r7 * r7 * 7)::int] END,
    CASE WHEN kind = 'illegal' THEN (CAST(:countries AS text[]))[country_no] END,
    CASE WHEN kind = 'illegal' THEN
        (ARRAY['infant_toddler', 'prepubescent', 'pubescent'])[1 + floor(r3 * 3)::int] END,
    CASE WHEN kind = 'duplicate' OR (kind = 'fresh' AND r2 < 0.5) THEN NULL ELSE analyst END,
    -- one assessment in twenty by a supervisor rather than the assignee
    CASE WHEN kind IN ('not_illegal', 'out_of_remit', 'illegal') THEN
        CASE WHEN i % 20 = 0 THEN 1 ELSE analyst END END,
    CASE WHEN kind = 'illegal' AND route = 'notice' THEN
        country_no + 30 * floor(r8 * 10)::int END,
    CASE WHEN kind = 'illegal' AND route = 'forward' THEN 301 + (country_no - 1) % 30 END,
    CASE WHEN kind = 'illegal' AND route = 'police' THEN 331 + (i % 5)::int END,
    kind = 'illegal' AND route = 'police' AND removed IS NULL,
    rec,
    rec + interval '24 hours',
    CASE WHEN kind = 'duplicate' OR (kind = 'fresh' AND r2 < 0.5) THEN NULL
         ELSE rec + interval '10 minutes' END,
    CASE WHEN kind IN ('not_illegal', 'out_of_remit', 'illegal') THEN assessed END,
    CASE WHEN kind = 'illegal' THEN acted END,
    CASE WHEN kind = 'illegal' AND route = 'notice' THEN acted END,
    CASE WHEN kind = 'illegal' AND route = 'notice' AND NOT pending THEN sent END,
    CASE WHEN kind = 'illegal' AND route = 'forward' THEN acted END,
    CASE WHEN kind = 'illegal' AND route = 'police' THEN acted END,
    CASE WHEN kind = 'illegal' AND route = 'police' AND removed IS NULL THEN acted END,
    removed,
    CASE WHEN kind = 'duplicate' THEN rec
         WHEN kind IN ('not_illegal', 'out_of_remit') THEN assessed
         WHEN kind = 'content_unavailable' THEN rec + interval '3 hours'
         WHEN removed IS NOT NULL THEN removed + interval '1 hour' END,
    CASE WHEN kind = 'fresh' THEN rec + interval '24 hours'
         WHEN kind <> 'illegal' OR removed IS NOT NULL OR pending THEN NULL
         WHEN route = 'notice' THEN sent + interval '72 hours'
         WHEN route = 'forward' THEN acted + interval '7 days' END,
    NULL, 0, rec, 1
FROM final;

INSERT INTO case_events (case_id, actor_id, action, from_status, to_status, fields, created_at)
SELECT id, NULL, 'receive', NULL, 'new', '{}'::json, received_at FROM cases
UNION ALL
SELECT id, assignee_id, 'assign', 'new', 'triage', '{}'::json, assigned_at
FROM cases WHERE assigned_at IS NOT NULL
UNION ALL
SELECT id, assessed_by_id, 'assess', 'triage',
       CASE WHEN classification LIKE 'illegal%' THEN 'action_required' ELSE 'closed' END,
       '{}'::json, assessed_at
FROM cases WHERE assessed_at IS NOT NULL
UNION ALL
SELECT id, assignee_id,
       CASE WHEN notice_requested_at IS NOT NULL THEN 'request_notice'
            WHEN forwarded_at IS NOT NULL THEN 'forward_to_partner'
            ELSE 'refer_to_police' END,
       'action_required', 'notice_pending', '{}'::json, first_action_at
FROM cases WHERE first_action_at IS NOT NULL
UNION ALL
SELECT id, NULL, 'send_notice', 'notice_pending', 'notice_sent', '{}'::json, notice_sent_at
FROM cases WHERE notice_sent_at IS NOT NULL
UNION ALL
SELECT id, assignee_id, 'confirm_takedown', 'notice_sent', 'closed', '{}'::json, closed_at
FROM cases WHERE removed_at IS NOT NULL;

SELECT setval(pg_get_serial_sequence('users', 'id'), 12);
SELECT setval(pg_get_serial_sequence('organisations', 'id'), 335);
SELECT setval(pg_get_serial_sequence('submissions', 'id'), :nsub);
SELECT setval(pg_get_serial_sequence('cases', 'id'), :n);
"""


def generate(engine: sa.Engine, n: int) -> None:
    nsub = n * 4 // 5  # a submission in five lists two URLs
    span = (NOW - START).total_seconds()
    params = {
        "n": n,
        "nsub": nsub,
        "span": span,
        "start": START,
        "now": NOW,
        "countries": list(COUNTRIES),
    }
    started = time.perf_counter()
    with engine.begin() as connection:
        for statement in filter(str.strip, GENERATE.split(";\n")):
            connection.execute(sa.text(statement), params)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM ANALYZE"))
    print(f"generated {n:,} cases in {time.perf_counter() - started:.0f} s")


def backend_cpu(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class StatementTimer:
    """Wall time per SQL statement (first line of it), through engine events."""

    def __init__(self, engine: sa.Engine):
        self.times: dict[str, list[float]] = defaultdict(list)
        self.sql: dict[str, tuple[str, object]] = {}
        sa.event.listen(engine, "before_cursor_execute", self._before)
        sa.event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["started"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        key = " ".join(statement.split())[:90]
        self.times[key].append((time.perf_counter() - conn.info["started"]) * 1000)
        self.sql[key] = (statement, parameters)


def _ms(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def paired(fn, baseline, runs: int) -> dict:
    """``fn`` and the baseline in turn, ``runs`` times after a warm-up of each:
    each run's ratio comes from one quiet-or-noisy moment (the machine is shared)."""
    fn()
    baseline()
    app, base = [], []
    for _ in range(runs):
        base.append(_ms(baseline))
        app.append(_ms(fn))
    ratios = [a / b for a, b in zip(app, base, strict=True)]
    return {"app": app, "base": base, "ratio": ratios}


def fmt(values: list[float]) -> str:
    return f"{statistics.median(values):,.0f} ms ({min(values):,.0f}–{max(values):,.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()

    print("## Statistics figures over many cases (PostgreSQL)\n")
    print(f"- date: {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    print(f"- command: `{shlex.join([os.path.relpath(sys.executable), *sys.argv])}`")
    print(
        f"- machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start; "
        f"Python {sys.version.split()[0]}\n"
    )
    prepare_database(URL, fresh=False)
    if args.regenerate or case_count(URL) != args.cases:
        prepare_database(URL, fresh=True)
        regenerate = True
    else:
        regenerate = False
    app = create_app({"SQLALCHEMY_DATABASE_URI": URL, "ENV_NAME": "testing"}, clock=FixedClock(NOW))
    with app.app_context():
        engine = db.engine
        if regenerate:
            generate(engine, args.cases)
        server = db.session.scalar(sa.text("SHOW server_version"))
        events = db.session.scalar(sa.text("SELECT count(*) FROM case_events"))
        print(f"- data: {args.cases:,} cases, {events:,} case events; PostgreSQL {server}\n")

        periods = {
            "year 2025": Period(date(2025, 1, 1), date(2025, 12, 31)),
            "month 2025-10": Period.month(2025, 10),
            "all (2024-01-01..today)": Period(date(2024, 1, 1), NOW.date()),
        }
        year = periods["year 2025"]

        def baseline() -> None:
            db.session.execute(
                sa.text(
                    "SELECT count(*), count(DISTINCT url_hash) FROM cases "
                    "WHERE received_at >= :a AND received_at < :b"
                ),
                {"a": year.start_at, "b": year.end_at},
            ).one()
            db.session.execute(
                sa.text(
                    "SELECT percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY "
                    "EXTRACT(EPOCH FROM removed_at - notice_sent_at)) FROM cases "
                    "WHERE notice_sent_at >= :a AND notice_sent_at < :b "
                    "AND removed_at IS NOT NULL"
                ),
                {"a": year.start_at, "b": year.end_at},
            ).one()
            db.session.rollback()

        rows = []
        tuned = dict(stats_sql.REPORTING_SETTINGS)
        month = periods["month 2025-10"]
        cases = [(label, period, True, tuned, False) for label, period in periods.items()]
        cases += [
            ("year 2025", year, False, tuned, False),
            ("year 2025, server defaults (no SET LOCAL)", year, True, {}, False),
            ("year 2025, without the 0004/0023 indexes", year, True, tuned, True),
            ("month 2025-10, without the 0004/0023 indexes", month, True, tuned, True),
        ]
        for label, period, analysts, settings, drop in cases:

            def run(period=period, analysts=analysts, settings=settings, drop=drop):
                if drop:  # inside the transaction: the rollback below restores them
                    for index in STATS_INDEXES:
                        db.session.execute(sa.text(f"DROP INDEX {index}"))
                stats_sql.REPORTING_SETTINGS = settings
                try:
                    compute_figures(db.session, period, now=NOW, include_analysts=analysts)
                finally:
                    stats_sql.REPORTING_SETTINGS = tuned
                db.session.rollback()

            result = paired(run, baseline, args.runs)
            cohort = db.session.scalar(
                sa.text("SELECT count(*) FROM cases WHERE received_at >= :a AND received_at < :b"),
                {"a": period.start_at, "b": period.end_at},
            )
            db.session.rollback()
            rows.append((label, analysts, cohort, result))

        print(
            "| period | per analyst | cases in period | compute_figures | baseline, same runs "
            "| ratio |"
        )
        print("|---|---|---|---|---|---|")
        for label, analysts, cohort, result in rows:
            print(
                f"| {label} | {'yes' if analysts else 'no'} | {cohort:,} | {fmt(result['app'])} "
                f"| {fmt(result['base'])} | {statistics.median(result['ratio']):.1f}× |"
            )
        print(
            "\nbaseline: the bare SQL over the year 2025 (count + count distinct URLs, one "
            "percentile_cont of notice to removal), run just before each compute_figures."
        )

        # CPU seconds rather than wall time: what the work costs whatever else the
        # shared machine runs. Parallel workers off, so that the backend's own
        # CPU time (Linux /proc, PostgreSQL on this machine) is all of it.
        print(
            "\nCPU time, serial plans (max_parallel_workers_per_gather = 0), median of "
            f"{args.runs}: PostgreSQL backend + this Python process"
        )
        print("| period | backend CPU | Python CPU | wall |")
        print("|---|---|---|---|")
        for label, period in periods.items():
            samples = []
            for _ in range(args.runs + 1):
                db.session.execute(sa.text("SET LOCAL max_parallel_workers_per_gather = 0"))
                pid = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
                cpu0, py0, wall0 = backend_cpu(pid), time.process_time(), time.perf_counter()
                compute_figures(db.session, period, now=NOW, include_analysts=True)
                samples.append(
                    (
                        backend_cpu(pid) - cpu0,
                        time.process_time() - py0,
                        time.perf_counter() - wall0,
                    )
                )
                db.session.rollback()
            samples = samples[1:]  # the first warms the caches
            backend, python, wall = (
                statistics.median(s[i] for s in samples) * 1000 for i in range(3)
            )
            print(f"| {label} | {backend:,.0f} ms | {python:,.0f} ms | {wall:,.0f} ms |")

        timer = StatementTimer(engine)
        compute_figures(db.session, year, now=NOW, include_analysts=True)
        db.session.rollback()
        print("\nStatements of one year run (ms):")
        for key, values in sorted(timer.times.items(), key=lambda kv: -sum(kv[1])):
            print(f"  {sum(values):8.1f}  {key}")
        if args.explain:
            for key, _ in sorted(timer.times.items(), key=lambda kv: -sum(kv[1]))[:3]:
                statement, parameters = timer.sql[key]
                with engine.begin() as connection:
                    for name, value in tuned.items():  # as compute_figures sets them
                        connection.execute(sa.select(sa.func.set_config(name, value, True)))
                    plan = connection.exec_driver_sql(
                        "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
                    ).all()
                print(f"\n### {key}\n" + "\n".join(row[0] for row in plan))
        sa.event.remove(engine, "before_cursor_execute", timer._before)
        sa.event.remove(engine, "after_cursor_execute", timer._after)


if __name__ == "__main__":
    main()
