"""Bare baselines for casemgr benchmarks: what this machine can do at best.

    .venv/bin/python bench/baselines.py [--db sqlite|postgres|both] [--runs 3] [--duration 10]

Measures, interleaved in each run so that noise hits all alike:
  - bare Flask GET /hello under gunicorn (2 sync workers), wrk -t2 -c16;
  - bare Flask POST (two form fields) + 1 INSERT, SQLite WAL synchronous=NORMAL
    and/or PostgreSQL through psycopg;
  - a bare reportlab one-page letter into memory (median of 50 calls) and a
    500-row table letter (median of 10).

App benchmarks can reuse the pieces: ``baseline_server(db)`` starts the bare
app with its table ready, ``one_page_letter()`` / ``table_letter()`` are the
bare PDFs. Run them beside the app in the same run and report the ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sqlite3
import statistics
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from lib import (
    BaseURL,
    peak_memory,
    post_form_script,
    print_header,
    repeat,
    report_table,
    run_wrk,
    start_gunicorn,
    time_calls,
)

HERE = Path(__file__).resolve().parent
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/bench_baseline")
POST_FIELDS = {"url": "http://example.test/item/{n}", "comment": "bench baseline"}

DDL = {
    "sqlite": "CREATE TABLE {t} (id INTEGER PRIMARY KEY, url TEXT NOT NULL, comment TEXT,"
    " created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)",
    "postgres": "CREATE TABLE {t} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " url text NOT NULL, comment text, created_at timestamptz NOT NULL DEFAULT now())",
}

# Figures from ../shared/performance.md, for a sanity check only.
REFERENCE = {
    "get": "~3,300 req/s",
    "sqlite": "~2,450 req/s",
    "postgres": "~1,300 req/s, ~1.1 ms CPU",
    "letter": "~4 ms",
    "table_letter": "~100 ms (14 pages)",
}


# ------------------------------------------------------------------ bare HTTP


def _ensure_pg_database(url: str) -> None:
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


@contextlib.contextmanager
def baseline_server(
    db: str | None = None, *, pg_url: str = PG_URL, workers: int = 2
) -> Iterator[BaseURL]:
    """Start the bare app (bench/baseline/app.py) under gunicorn; yield its base URL.

    ``db``: None (GET /hello only), "sqlite" (a fresh WAL file in a temporary
    directory) or "postgres" (a table in ``pg_url``'s database, which is
    created if missing). The table is made before and dropped after.
    ``base_url.rows()`` counts the rows inserted so far.
    """
    table = f"bench_submission_{os.getpid()}"
    env = {"BASELINE_TABLE": table}
    with contextlib.ExitStack() as stack:
        if db == "sqlite":
            path = os.path.join(stack.enter_context(tempfile.TemporaryDirectory()), "bare.db")
            with contextlib.closing(sqlite3.connect(path)) as conn:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(DDL["sqlite"].format(t=table))

            def rows() -> int:
                with contextlib.closing(sqlite3.connect(path)) as conn:
                    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

            env["BASELINE_SQLITE"] = path
        elif db == "postgres":
            import psycopg

            _ensure_pg_database(pg_url)
            with psycopg.connect(pg_url, autocommit=True) as conn:
                conn.execute(DDL["postgres"].format(t=table))

            def drop() -> None:
                with psycopg.connect(pg_url, autocommit=True) as conn:
                    conn.execute(f"DROP TABLE IF EXISTS {table}")

            def rows() -> int:
                with psycopg.connect(pg_url) as conn:
                    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

            stack.callback(drop)
            env["BASELINE_DATABASE_URL"] = pg_url
        elif db is not None:
            raise ValueError(f"db must be None, 'sqlite' or 'postgres', not {db!r}")
        else:

            def rows() -> int:
                return 0

        url = stack.enter_context(
            start_gunicorn(
                "app:app", env=env, workers=workers, chdir=HERE / "baseline", ready_path="/hello"
            )
        )
        url.rows = rows
        yield url


# ------------------------------------------------------------------ bare PDFs


def _styles():
    from reportlab.lib.styles import getSampleStyleSheet

    return getSampleStyleSheet()


def one_page_letter() -> bytes:
    """A bare one-page notice letter (platypus, built-in Helvetica) into memory."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import cm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    st = _styles()
    body = st["BodyText"]
    story = [
        Paragraph("Example Hotline<br/>1 Example Street<br/>1000 Example City", body),
        Spacer(1, 1 * cm),
        Paragraph("Abuse Desk<br/>Example Hosting Ltd<br/>2 Provider Road", body),
        Spacer(1, 1 * cm),
        Paragraph("28 November 2026", body),
        Paragraph("Notice of illegal content — case 2026-000123", st["Heading2"]),
        Paragraph("Dear Sir or Madam,", body),
    ]
    story += [
        Paragraph(
            "We have received a report about content hosted on your service at "
            "http://example.test/item/123 which we have assessed as illegal under "
            "the applicable law. We ask you to remove or disable access to it "
            "expeditiously and to let us know when you have done so.",
            body,
        )
        for _ in range(4)
    ]
    story += [
        Spacer(1, 1 * cm),
        Paragraph("Yours faithfully,<br/><br/>Analyst, Example Hotline", body),
    ]
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, leftMargin=2.5 * cm, rightMargin=2.5 * cm).build(story)
    return buf.getvalue()


def table_letter(rows: int = 500) -> bytes:
    """A bare letter listing ``rows`` URLs in a table (500 rows: about 14 pages)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import cm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

    st = _styles()
    data = [["#", "Case", "URL", "Received", "Status"]]
    data += [
        [
            str(i),
            f"2026-{i:06d}",
            f"http://example.test/some/path/item-{i}.html",
            "2026-11-28 10:00",
            "notice sent",
        ]
        for i in range(1, rows + 1)
    ]
    table = Table(data, repeatRows=1, colWidths=[1.2 * cm, 2.6 * cm, 7.5 * cm, 3.2 * cm, 2.5 * cm])
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 9),
                ("FONT", (0, 1), (-1, -1), "Helvetica", 8),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    story = [
        Paragraph("Notice of illegal content — batch for Example Hosting Ltd", st["Heading2"]),
        Paragraph(
            "Please remove or disable access to the content at the URLs below.", st["BodyText"]
        ),
        table,
    ]
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, leftMargin=1.5 * cm, rightMargin=1.5 * cm).build(story)
    return buf.getvalue()


def pdf_pages(pdf: bytes) -> int:
    return pdf.count(b"/Type /Page\n") or pdf.count(b"/Type /Page ")


# ----------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--duration", type=float, default=10, help="seconds of wrk per measurement")
    ap.add_argument("--warmup", type=float, default=2, help="seconds of wrk before the runs")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--pg-url", default=PG_URL)
    ap.add_argument("--letters", type=int, default=50, help="one-page letters per run")
    ap.add_argument("--table-letters", type=int, default=10, help="500-row letters per run")
    args = ap.parse_args()
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]

    print_header("Bare baselines")
    wrk_opts = {"threads": args.threads, "connections": args.connections}
    script = post_form_script(POST_FIELDS)
    with contextlib.ExitStack() as stack:
        servers = {"get": stack.enter_context(baseline_server(workers=args.workers))}
        for db in dbs:
            servers[db] = stack.enter_context(
                baseline_server(db, pg_url=args.pg_url, workers=args.workers)
            )

        def load(name: str, duration: float) -> dict:
            base = servers[name]
            if name == "get":
                return run_wrk(base + "/hello", duration=duration, server_pid=base.pid, **wrk_opts)
            return run_wrk(
                base + "/submit", script=script, duration=duration, server_pid=base.pid, **wrk_opts
            )

        for name in servers:  # warm-up: every worker has imported and connected
            load(name, args.warmup)
        warm_rows = {name: s.rows() for name, s in servers.items()}

        totals = {name: {"requests": 0, "bad": 0} for name in servers}

        def one_run() -> dict:
            out = {}
            for name in servers:
                r = load(name, args.duration)
                totals[name]["requests"] += r["requests"]
                totals[name]["bad"] += r["non2xx"] + r["socket_errors"]
                for key in (
                    "requests_per_sec",
                    "latency_p50_ms",
                    "latency_p99_ms",
                    "cpu_ms_per_request",
                ):
                    out[f"{name}.{key}"] = r[key]
            out["letter"] = statistics.median(time_calls(one_page_letter, args.letters))
            out["table_letter"] = statistics.median(time_calls(table_letter, args.table_letters))
            return out

        stats = repeat(one_run, runs=args.runs)
        inserted = {name: s.rows() - warm_rows[name] for name, s in servers.items()}

    labels = {
        "get": f"bare GET /hello, gunicorn {args.workers} sync, wrk -t{args.threads} "
        f"-c{args.connections}",
        "sqlite": "bare POST + 1 INSERT, SQLite WAL synchronous=NORMAL",
        "postgres": "bare POST + 1 INSERT, PostgreSQL (psycopg, autocommit)",
    }
    rows = []
    for name in servers:
        rows.append(
            {
                "baseline": labels[name],
                "median (min–max)": stats[f"{name}.requests_per_sec"],
                "unit": "req/s",
                "p50 / p99 ms": f"{stats[f'{name}.latency_p50_ms']['median']:.2f} / "
                f"{stats[f'{name}.latency_p99_ms']['median']:.2f}",
                "server CPU ms/req": stats[f"{name}.cpu_ms_per_request"],
                "reference": REFERENCE[name],
            }
        )
    sample = table_letter()
    rows.append(
        {
            "baseline": f"reportlab one-page letter into memory (median of {args.letters})",
            "median (min–max)": stats["letter"],
            "unit": "ms",
            "reference": REFERENCE["letter"],
        }
    )
    rows.append(
        {
            "baseline": f"reportlab 500-row table letter, {pdf_pages(sample)} pages, "
            f"{len(sample) // 1024} KiB (median of {args.table_letters})",
            "median (min–max)": stats["table_letter"],
            "unit": "ms",
            "reference": REFERENCE["table_letter"],
        }
    )
    print(f"Medians of {args.runs} runs, (min–max) across runs; wrk {args.duration:g} s each.\n")
    report_table(rows)
    print(f"\nLoad average at end: {os.getloadavg()[0]:.2f} (above ~2: other work shared the CPUs)")
    print(
        f"Peak Python heap (tracemalloc) building the 500-row letter: "
        f"{peak_memory(table_letter):.1f} MiB"
    )

    ok = True
    for name in servers:
        t = totals[name]
        if t["bad"]:
            ok = False
            print(
                f"WARNING {name}: {t['bad']} non-2xx/3xx responses or socket errors "
                f"of {t['requests']} requests"
            )
        if name != "get" and inserted[name] < t["requests"] - t["bad"]:
            # More rows than requests is normal: wrk does not count requests cut
            # off at the end of a run, which the server still completes.
            ok = False
            print(f"WARNING {name}: {inserted[name]} rows inserted for {t['requests']} requests")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
