"""Benchmark of the letter runs on PostgreSQL, beside bare baselines in the same run.

    .venv/bin/python bench/notices.py                 # everything, 3 runs each
    .venv/bin/python bench/notices.py --only render --runs 5
    .venv/bin/python bench/notices.py --only reminders --sizes 100000,1000000

What it measures (each in a fresh child process, so that peak RSS is the run's):

render
    one single-URL notice letter rendered into memory, median of 200, beside a
    bare reportlab one-page letter (canvas, one font, a few lines); and the
    same letter *made* (rendered, numbered, stored, flushed; rolled back).
notices
    the ``notices`` run over 10,000 ``notice_pending`` cases across 500
    hosting providers (500 letters of 20 URLs), beside rendering the same 500
    letters alone (no database): the ratio is what the database work costs.
reminders
    the ``reminders`` run over N cases of which 10,000 are overdue (500
    providers, 20 each; 5 % of N more are chased but not due; the rest are
    closed), for each N of ``--sizes``; beside it the sweep alone (the app's
    query, and the same SQL through bare psycopg) with its EXPLAIN ANALYZE. The
    sweep must cost the same at 100,000 and 1,000,000 cases: it reads the
    partial index ``ix_cases_next_reminder``.

Bulk data is made with ``INSERT ... SELECT generate_series`` in its own
database (``--db``, default ``casemgr_bench_notices``, dropped and created
again, migrated with ``flask --app wsgi db upgrade``), never with ORM objects.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
PROVIDERS = 500
PENDING = 10_000
OVERDUE = 10_000


# ------------------------------------------------------------------ helpers


def rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def peak_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def stats(values: list[float]) -> str:
    if not values:
        return "-"
    med = statistics.median(values)
    return f"{med:.3f} ({min(values):.3f}-{max(values):.3f})"


def pg_urls(admin_url: str, name: str) -> tuple[str, str]:
    import sqlalchemy as sa

    base = sa.make_url(admin_url.replace("postgresql://", "postgresql+psycopg://", 1))
    return (
        base.set(database="postgres").render_as_string(hide_password=False),
        base.set(database=name).render_as_string(hide_password=False),
    )


def create_database(admin_url: str, name: str, url: str) -> None:
    import sqlalchemy as sa

    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    env = {**os.environ, "DATABASE_URL": url.replace("+psycopg", "")}
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


def sql(url: str, *statements: str, **params: object) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(sa.text(statement), params)
    engine.dispose()


def vacuum(url: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text("VACUUM ANALYZE"))
    engine.dispose()


# ---------------------------------------------------------------- bulk data

# The cascade reaches the audit log, whose trigger refuses TRUNCATE as it does
# in production; this benchmark database is the bench's own, so its
# connection (a superuser's) switches user triggers off for the transaction.
TRUNCATE = (
    "SET LOCAL session_replication_role = replica",
    "TRUNCATE alerts, notice_cases, notices, case_events, cases, submissions, organisations,"
    " reference_counters RESTART IDENTITY CASCADE",
)

ORGANISATIONS = """
INSERT INTO organisations (kind, name, country, email, language, address, notes, active, created_at,
                           forward_by)
SELECT 'hosting_provider', 'Bench Provider ' || g, 'KH', 'abuse' || g || '@provider.example.net',
       'en', g || ' Server Street, Phnom Penh', '', true, :now, 'letter'
FROM generate_series(1, :providers) g
"""

SUBMISSION = """
INSERT INTO submissions (reference, source, received_at, description, feedback_requested)
VALUES ('CM-S-2026-000001', 'public', :now - interval '5 days', '', false)
"""

# Columns every case needs; the scenario decides status and clocks.
CASE_COLUMNS = """reference, submission_id, url, url_hash, host, status, resolution,
    classification, media_type, site_type, hosting_country, police_hold, provider_id,
    received_at, assessed_at, notice_requested_at, notice_sent_at, removed_at, closed_at,
    due_at, next_reminder_at, reminder_count, updated_at, version"""

PENDING_CASES = f"""
INSERT INTO cases ({CASE_COLUMNS})
SELECT 'CM-2026-' || lpad(g::text, 7, '0'), 1,
       'https://cdn' || (g % :providers) || '.example-host.net/gallery/' || g
           || '/view.php?img=' || g,
       md5(g::text) || md5((-g)::text), 'cdn' || (g % :providers) || '.example-host.net',
       'notice_pending', NULL, 'illegal_baseline', 'image', 'image_host', 'KH', false,
       1 + (g % :providers),
       :now - interval '2 days', :now - interval '1 day', :now - interval '1 hour',
       NULL, NULL, NULL, NULL, NULL, 0, :now - interval '1 hour', 1
FROM generate_series(1, :pending) g
"""

# 1..overdue: notice_sent and overdue; then 5 % of N chased but not due; the rest closed.
REMINDER_CASES = f"""
INSERT INTO cases ({CASE_COLUMNS})
SELECT 'CM-2026-' || lpad(g::text, 7, '0'), 1,
       'https://cdn' || (g % :providers) || '.example-host.net/gallery/' || g
           || '/view.php?img=' || g,
       md5(g::text) || md5((-g)::text), 'cdn' || (g % :providers) || '.example-host.net',
       CASE WHEN g <= :overdue + :chased THEN 'notice_sent' ELSE 'closed' END,
       CASE WHEN g <= :overdue + :chased THEN NULL ELSE 'takedown_confirmed' END,
       'illegal_baseline', 'image', 'image_host', 'KH', false, 1 + (g % :providers),
       :now - interval '30 days', :now - interval '29 days', :now - interval '28 days',
       :now - (CASE WHEN g <= :overdue THEN 4 ELSE 1 END) * interval '1 day',
       CASE WHEN g <= :overdue + :chased THEN NULL ELSE :now - interval '20 days' END,
       CASE WHEN g <= :overdue + :chased THEN NULL ELSE :now - interval '20 days' END,
       CASE WHEN g <= :overdue THEN :now - interval '1 day'
            WHEN g <= :overdue + :chased THEN :now + interval '2 days' END,
       CASE WHEN g <= :overdue THEN :now - (g % 48) * interval '1 hour'
            WHEN g <= :overdue + :chased THEN :now + (1 + g % 70) * interval '1 hour' END,
       0, :now - interval '1 day', 1
FROM generate_series(1, :total) g
"""

# The original notices of the overdue cases: one per provider (placeholder bytes).
ORIGINAL_NOTICES = """
INSERT INTO notices (reference, kind, recipient_id, recipient_kind, recipient_name,
    recipient_email, recipient_address, language, manual_delivery, case_count, pdf, sha256,
    size, created_at)
SELECT 'CM-N-2026-9' || lpad(o.id::text, 5, '0'), 'notice', o.id, 'hosting_provider', o.name,
       o.email, o.address, 'en', false, :overdue / :providers, '\\x25504446'::bytea,
       repeat('0', 64), 4, :now - interval '4 days'
FROM organisations o
"""

ORIGINAL_LINKS = """
INSERT INTO notice_cases (notice_id, case_id, kind, step_at)
SELECT n.id, c.id, 'notice', c.notice_requested_at
FROM cases c JOIN notices n ON n.recipient_id = c.provider_id AND n.kind = 'notice'
WHERE c.id <= :overdue
"""

RESET_REMINDERS = (
    "DELETE FROM alerts",
    "DELETE FROM case_events",
    "DELETE FROM notice_cases WHERE kind <> 'notice'",
    "DELETE FROM notices WHERE kind <> 'notice'",
    """UPDATE cases SET next_reminder_at = :now - (id % 48) * interval '1 hour',
           reminder_count = 0, version = 1
       WHERE id <= :overdue""",
)


def load_pending(url: str) -> None:
    sql(
        url,
        *TRUNCATE,
        ORGANISATIONS,
        SUBMISSION,
        PENDING_CASES,
        now=NOW,
        providers=PROVIDERS,
        pending=PENDING,
    )
    vacuum(url)


def load_reminders(url: str, total: int) -> None:
    started = time.perf_counter()
    sql(
        url,
        *TRUNCATE,
        ORGANISATIONS,
        SUBMISSION,
        REMINDER_CASES,
        ORIGINAL_NOTICES,
        ORIGINAL_LINKS,
        now=NOW,
        providers=PROVIDERS,
        overdue=OVERDUE,
        chased=total // 20,
        total=total,
    )
    vacuum(url)
    print(f"  loaded {total:,} cases in {time.perf_counter() - started:.1f} s", flush=True)


# ------------------------------------------------------------ child processes


def child(scenario: str, url: str) -> dict:
    """Run one scenario in this process; a JSON-able result."""
    from casemgr import create_app
    from casemgr.clock import FixedClock

    app = create_app({"SQLALCHEMY_DATABASE_URI": url}, clock=FixedClock(NOW))
    with app.app_context():
        return {"render": child_render, "notices": child_notices, "reminders": child_reminders}[
            scenario
        ](app)


def _one_url_letter():
    from casemgr.notices.pdf.letter import Letter, LetterLine

    return Letter(
        kind="notice",
        reference="CM-N-2026-000001",
        date=NOW,
        recipient_name="Example Hosting Ltd",
        recipient_address="12 Server Road\nPhnom Penh",
        recipient_email="abuse@example-host.net",
        lines=[
            LetterLine(
                "CM-2026-000042",
                "https://cdn.example-host.net/gallery/8f3a/view.php?img=42",
                NOW - timedelta(days=1),
                "Child sexual abuse material (international baseline)",
            )
        ],
        deadline=NOW + timedelta(hours=72),
        legal_basis="Legal basis paragraph. " * 8,
        request="Please remove the content and preserve the data for the police. " * 3,
        closing="Yours faithfully,\nExample Hotline",
    )


def _bare_reportlab_letter() -> bytes:
    """The baseline: a plain platypus one-page letter embedding the same
    TrueType fonts as casemgr's English letter (Noto Sans regular and bold),
    without script fallback, shaping or a numbered-page canvas."""
    from io import BytesIO

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table

    if "BenchSans" not in pdfmetrics.getRegisteredFontNames():
        fonts = ROOT / "casemgr" / "pdf" / "fonts"
        pdfmetrics.registerFont(TTFont("BenchSans", str(fonts / "NotoSans-Regular.ttf")))
        pdfmetrics.registerFont(TTFont("BenchSans-Bold", str(fonts / "NotoSans-Bold.ttf")))
    body = ParagraphStyle("body", fontName="BenchSans", fontSize=10, leading=14)
    heading = ParagraphStyle("heading", fontName="BenchSans-Bold", fontSize=11, leading=15)
    out = BytesIO()
    story = [
        Paragraph("Example Hotline<br/>1 Example Street, Example City", body),
        Spacer(1, 20),
        Paragraph("To: Example Hosting Ltd<br/>Reference CM-N-2026-000001, 2026-11-28", body),
        Paragraph("Notice of illegal content and request for removal", heading),
        Paragraph("Legal basis paragraph. " * 8, body),
        Table(
            [
                ["#", "Case reference", "URL", "First seen"],
                [
                    "1",
                    "CM-2026-000042",
                    "https://cdn.example-host.net/gallery/8f3a/view.php",
                    "2026-11-27",
                ],
            ],
            style=[
                ("FONT", (0, 0), (-1, -1), "BenchSans", 8),
                ("FONT", (0, 0), (-1, 0), "BenchSans-Bold", 8),
            ],
        ),
        Paragraph("Please remove the content and preserve the data for the police. " * 3, body),
        Paragraph("Please remove the content by 2026-12-01 09:00 UTC.", body),
        Paragraph("Yours faithfully,<br/>Example Hotline", body),
    ]
    SimpleDocTemplate(out, pagesize=A4, invariant=1).build(story)
    return out.getvalue()


def _median_ms(fn, n: int) -> tuple[float, float, float]:
    """(median wall ms, p90 wall ms, median CPU ms of this process) of ``n`` calls.

    CPU time is what the call cost this process; on a shared machine it moves
    much less than wall time (which includes waiting for a CPU)."""
    fn()  # warm-up (fonts, caches)
    times, cpu = [], []
    for _ in range(n):
        started, started_cpu = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.9 * n)], statistics.median(cpu)


def child_render(app) -> dict:
    from casemgr.cases.models import Case
    from casemgr.extensions import db
    from casemgr.notices import letters
    from casemgr.notices.pdf.layout import render_letter
    from casemgr.notices.wording import NoticeSettings

    settings = NoticeSettings.from_app(app)
    letter = _one_url_letter()
    bare = _median_ms(_bare_reportlab_letter, 200)
    rendered = _median_ms(lambda: render_letter(letter, settings.letterhead), 200)
    case = Case(
        id=1,
        reference="CM-2026-000042",
        url=letter.lines[0].url,
        received_at=NOW - timedelta(days=1),
        classification="illegal_baseline",
    )

    def make():
        letters.store_letter(
            db.session,
            kind="notice",
            reference=letters.notice_reference(db.session, "CM", NOW),
            recipient=letters.Recipient(
                1,
                "hosting_provider",
                "Example Hosting Ltd",
                "abuse@example-host.net",
                "12 Server Road",
                "en",
            ),
            covered=[case],
            steps={1: NOW},
            now=NOW,
            settings=settings,
            deadline=NOW + timedelta(hours=72),
        )
        db.session.rollback()

    # store_letter needs the case and provider rows: make them, then roll back each letter
    from sqlalchemy import text

    db.session.execute(text(ORGANISATIONS), {"now": NOW, "providers": 1})
    db.session.execute(text(SUBMISSION), {"now": NOW})
    db.session.commit()
    db.session.execute(text(PENDING_CASES), {"now": NOW, "providers": 1, "pending": 1})
    db.session.commit()
    # the counter row exists in a running system (the first letter of a year makes it)
    letters.notice_reference(db.session, "CM", NOW)
    db.session.commit()
    made = _median_ms(make, 200)
    return {
        "bare_ms": bare,
        "render_ms": rendered,
        "make_ms": made,
        "bytes": len(render_letter(letter, settings.letterhead)),
    }


def child_notices(app) -> dict:
    from casemgr.extensions import db
    from casemgr.jobs import notices as notices_job
    from casemgr.notices.pdf.layout import render_letter
    from casemgr.notices.pdf.letter import Letter, LetterLine
    from casemgr.notices.wording import NoticeSettings

    settings = NoticeSettings.from_app(app)
    # the baseline: the same 500 letters of 20 URLs, rendered alone
    lines = [
        LetterLine(
            f"CM-2026-{i:07d}",
            f"https://cdn{i % PROVIDERS}.example-host.net/gallery/{i}/view.php?img={i}",
            NOW - timedelta(days=2),
            "Child sexual abuse material (international baseline)",
        )
        for i in range(PENDING // PROVIDERS)
    ]
    wording = settings.wording_for("en")
    started, started_cpu = time.perf_counter(), time.process_time()
    for p in range(PROVIDERS):
        render_letter(
            Letter(
                kind="notice",
                reference=f"CM-N-2026-{p:06d}",
                date=NOW,
                recipient_name=f"Bench Provider {p}",
                recipient_email="abuse@provider.example.net",
                lines=lines,
                deadline=NOW + timedelta(hours=72),
                legal_basis=wording.legal_basis,
                request=wording.request,
                closing=wording.closing,
            ),
            settings.letterhead,
        )
    render_only = time.perf_counter() - started
    render_only_cpu = time.process_time() - started_cpu

    before = rss_kb()
    started, started_cpu = time.perf_counter(), time.process_time()
    summary = notices_job.run(db.session, NOW, app)
    db.session.commit()
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "cpu_seconds": time.process_time() - started_cpu,
        "render_only_seconds": render_only,
        "render_only_cpu_seconds": render_only_cpu,
        "letters": summary.letter_count,
        "cases": summary.cases,
        "failed": summary.failed,
        "rss_before_kb": before,
        "peak_kb": peak_kb(),
    }


DUE_SQL = """SELECT id, status, police_hold, provider_id, partner_id, police_id, reminder_count
FROM cases WHERE next_reminder_at <= %(now)s
  AND status IN ('notice_sent', 'forwarded', 'with_police')
ORDER BY next_reminder_at, id"""


def child_reminders(app) -> dict:
    import psycopg

    from casemgr.extensions import db
    from casemgr.jobs import reminders as reminders_job
    from casemgr.notices.reminders import due_for_reminder
    from casemgr.notices.wording import NoticeSettings

    settings = NoticeSettings.from_app(app)
    url = app.config["SQLALCHEMY_DATABASE_URI"].replace("+psycopg", "")

    def app_sweep():
        rows = due_for_reminder(db.session, NOW, settings)
        db.session.rollback()
        return rows

    due = len(app_sweep())
    sweep = _median_ms(app_sweep, 20)
    with psycopg.connect(url) as connection:

        def bare_sweep():
            return connection.execute(DUE_SQL, {"now": NOW}).fetchall()

        bare = _median_ms(bare_sweep, 20)
        plan = "\n".join(
            row[0]
            for row in connection.execute(
                "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + DUE_SQL, {"now": NOW}
            )
        )
        total = connection.execute("SELECT count(*) FROM cases").fetchone()[0]

    before = rss_kb()
    started, started_cpu = time.perf_counter(), time.process_time()
    summary = reminders_job.run(db.session, NOW, app)
    db.session.commit()
    seconds = time.perf_counter() - started
    return {
        "cpu_seconds": time.process_time() - started_cpu,
        "total_cases": total,
        "due": due,
        "sweep_ms": sweep,
        "bare_sweep_ms": bare,
        "plan": plan,
        "seconds": seconds,
        "letters": summary.letter_count,
        "cases": summary.cases,
        "failed": summary.failed,
        "rss_before_kb": before,
        "peak_kb": peak_kb(),
    }


def in_child(scenario: str, url: str) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--child", scenario, "--url", url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"child {scenario} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--db", default="casemgr_bench_notices")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default="render,notices,reminders")
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps(child(args.child, args.url)))
        return

    admin, url = pg_urls(args.admin_url, args.db)
    only = set(args.only.split(","))
    print(f"# bench/notices.py — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(
        f"cpus: {os.cpu_count()}  python {platform.python_version()}  "
        f"load average at start: {os.getloadavg()}"
    )
    print(f"database: {args.db} (dropped, created, migrated)\n", flush=True)
    create_database(admin, args.db, url)

    if "render" in only:
        results = []
        for _ in range(args.runs):
            sql(url, *TRUNCATE)
            results.append(in_child("render", url))
        print("## one single-URL notice letter (median of 200 per run; median (min-max) of runs)")
        print("| what | wall ms, median | CPU ms, median | wall p90 ms (last run) |")
        print("|---|---|---|---|")
        for label, key in (
            ("baseline: bare platypus one-page letter, embedded TTF", "bare_ms"),
            ("render_letter, 1 URL", "render_ms"),
            ("made: numbered, rendered, stored, flushed (rolled back)", "make_ms"),
        ):
            print(
                f"| {label} | {stats([r[key][0] for r in results])} "
                f"| {stats([r[key][2] for r in results])} | {results[-1][key][1]:.2f} |"
            )
        ratio = [r["render_ms"][2] / r["bare_ms"][2] for r in results]
        print(
            f"\nrender / bare reportlab, CPU time: {stats(ratio)}; "
            f"PDF size {results[-1]['bytes']:,} bytes\n",
            flush=True,
        )

    if "notices" in only:
        results = []
        for _ in range(args.runs):
            load_pending(url)
            results.append(in_child("notices", url))
        r = results[-1]
        print(f"## notices run: {PENDING:,} pending cases, {PROVIDERS} providers")
        print("| figure | median (min-max) of runs |")
        print("|---|---|")
        print(f"| run, seconds | {stats([x['seconds'] for x in results])} |")
        print(
            f"| run, CPU seconds of the job's process | "
            f"{stats([x['cpu_seconds'] for x in results])} |"
        )
        print(
            f"| baseline: the same {PROVIDERS} letters rendered alone, seconds | "
            f"{stats([x['render_only_seconds'] for x in results])} |"
        )
        print(
            f"| baseline, CPU seconds | {stats([x['render_only_cpu_seconds'] for x in results])} |"
        )
        print(
            f"| run / render alone (wall) | "
            f"{stats([x['seconds'] / x['render_only_seconds'] for x in results])} |"
        )
        print(
            f"| run / render alone (CPU) | "
            f"{stats([x['cpu_seconds'] / x['render_only_cpu_seconds'] for x in results])} |"
        )
        print(
            f"| per letter, ms | {stats([1000 * x['seconds'] / x['letters'] for x in results])} |"
        )
        print(f"| peak RSS, MB | {stats([x['peak_kb'] / 1024 for x in results])} |")
        print(f"| RSS before the run, MB | {stats([x['rss_before_kb'] / 1024 for x in results])} |")
        print(f"\nletters {r['letters']}, cases {r['cases']}, failed {r['failed']}\n", flush=True)

    if "reminders" in only:
        print(f"## reminders run: {OVERDUE:,} overdue cases ({PROVIDERS} providers) among N")
        print(
            "| N cases | sweep (app) ms | sweep (bare psycopg) ms | run s | run CPU s "
            "| per letter ms | peak RSS MB | letters |"
        )
        print("|---|---|---|---|---|---|---|---|")
        plans = {}
        for size in (int(s) for s in args.sizes.split(",")):
            load_reminders(url, size)
            results = []
            for run in range(args.runs):
                if run:
                    sql(url, *RESET_REMINDERS, now=NOW, overdue=OVERDUE)
                    vacuum(url)
                results.append(in_child("reminders", url))
            assert all(x["due"] == OVERDUE for x in results), [x["due"] for x in results]
            plans[size] = results[-1]["plan"]
            print(
                f"| {results[-1]['total_cases']:,} "
                f"| {stats([x['sweep_ms'][0] for x in results])} "
                f"| {stats([x['bare_sweep_ms'][0] for x in results])} "
                f"| {stats([x['seconds'] for x in results])} "
                f"| {stats([x['cpu_seconds'] for x in results])} "
                f"| {stats([1000 * x['seconds'] / max(x['letters'], 1) for x in results])} "
                f"| {stats([x['peak_kb'] / 1024 for x in results])} "
                f"| {results[-1]['letters']} ({results[-1]['cases']} cases, "
                f"{results[-1]['failed']} failed) |",
                flush=True,
            )
        for size, plan in plans.items():
            print(f"\nEXPLAIN ANALYZE of the sweep at {size:,} cases:\n```\n{plan}\n```")
    print(f"\nload average at end: {os.getloadavg()}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
