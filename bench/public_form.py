"""The public report form's POST under gunicorn, beside the bare baseline.

    .venv/bin/python bench/public_form.py [--runs 3] [--duration 10] [--pg-url URL]
    .venv/bin/python bench/public_form.py --db sqlite        # a fresh SQLite file instead
    .venv/bin/python bench/public_form.py --receipt-scrypt 16,1,1   # the form without its slow hash

What is measured: ``POST /report`` with one new URL per request (each request
makes a submission, a case and its event, two reference numbers, and the
303 to the thank-you page), through the real app and the shipped
``gunicorn.conf.py`` (2 sync workers, access log on through the privacy
logger) on PostgreSQL, loaded by ``wrk -t2 -c16`` on 127.0.0.1. Target: at
least 200 submissions/s.

CSRF stays ON: the benchmark GETs /report once per run (lib.fetch_csrf) and
sends that token with its session cookie in every request; a Flask-WTF token
is valid for the whole session, so every request pays the real validation.
The rate limit stays on too (in Redis, BENCH_REDIS_URL, as production keeps
it) but is raised out of reach
(PUBLIC_REPORT_RATE_LIMIT and PUBLIC_REPORT_FLOOD_LIMIT), since wrk is a
single client.

Beside it, in the same run, the bare baseline (bench/baselines.py, when it is
there: a Flask POST that parses two fields and inserts one row), and the
ratio app/baseline of each run, for requests per second and for server CPU
per request. The database ``bench_public`` (next to --pg-url's), or with
``--db sqlite`` a file in a temporary directory (beside the bare SQLite
baseline), is made afresh and migrated at the start.

Every submission pays one scrypt hash for its receipt code
(``RECEIPT_SCRYPT``, about 40 ms of CPU here: docs/privacy.md says why it is
slow). ``--receipt-scrypt 16,1,1`` runs the same form with a hash of no
cost, to show what the rest of the POST costs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from pathlib import Path

from lib import (
    fetch_csrf,
    post_form_script,
    print_header,
    repeat,
    report_table,
    run_wrk,
    start_gunicorn,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/bench_public"

try:  # the bare baseline, from bench/baselines.py (another benchmark's module)
    from baselines import POST_FIELDS as BASELINE_FIELDS
    from baselines import baseline_server
except ImportError:  # pragma: no cover - depends on what bench/ holds
    baseline_server = None
    BASELINE_FIELDS = None


def fresh_database(url: str) -> None:
    """Drop and create the benchmark database, then build the schema with the migrations."""
    if url.startswith("sqlite:"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    else:
        import psycopg
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        name = conninfo_to_dict(url)["dbname"]
        with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    sys.path.insert(0, str(ROOT))
    from flask_migrate import upgrade

    from casemgr import create_app
    from casemgr.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        upgrade()
        db.engine.dispose()


def count_cases(url: str) -> int:
    if url.startswith("sqlite:"):
        import sqlite3

        with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as conn:
            return conn.execute("SELECT count(*) FROM cases").fetchone()[0]
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM cases").fetchone()[0]


def app_env(url: str) -> dict[str, str]:
    from cryptography.fernet import Fernet

    return {
        "DATABASE_URL": url,
        "CASEMGR_ENV": "production",
        "CASEMGR_SECRET_KEY": os.urandom(32).hex(),
        "CASEMGR_CONTACT_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "CASEMGR_AUDIT_KEY": os.urandom(32).hex(),
        "CASEMGR_SESSION_COOKIE_SECURE": "false",  # plain http on loopback
        "CASEMGR_PUBLIC_REPORT_RATE_LIMIT": "1000000 per minute",
        "CASEMGR_PUBLIC_REPORT_FLOOD_LIMIT": "1000000 per minute",
        # Two workers count in one store, as in production (gunicorn.conf.py
        # refuses memory:// with more than one worker).
        "CASEMGR_RATELIMIT_STORAGE_URI": os.environ.get(
            "BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"
        ),
        "PYTHONPATH": str(ROOT),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG))
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument(
        "--receipt-scrypt",
        help="RECEIPT_SCRYPT as N,r,p for this run (default: the shipped 16384,8,1)",
    )
    args = parser.parse_args()

    scratch = tempfile.TemporaryDirectory()
    url = args.pg_url if args.db == "postgres" else f"sqlite:///{scratch.name}/public.db"
    hash_note = f", RECEIPT_SCRYPT={args.receipt_scrypt}" if args.receipt_scrypt else ""
    print_header(f"Public report form: POST /report, gunicorn 2 workers, {args.db}{hash_note}")
    fresh_database(url)
    env = app_env(url)
    if args.receipt_scrypt:
        env["CASEMGR_RECEIPT_SCRYPT"] = "[" + args.receipt_scrypt + "]"
    gunicorn_args = ["-c", str(ROOT / "gunicorn.conf.py")]
    with start_gunicorn(
        "wsgi:app",
        env=env,
        chdir=ROOT,
        extra_args=gunicorn_args,
        ready_path="/report",
    ) as base:
        token, cookie = fetch_csrf(base + "/report")
        script = post_form_script(
            {
                "csrf_token": token,
                "urls": "http://bench-{n}.example.com/item",
                "seen_where": "website",
                "description": "benchmark",
            },
            headers={"Cookie": cookie},
        )
        before = count_cases(url)
        run_wrk(base + "/report", duration=2, script=script)  # warm-up

        baseline_ctx = baseline_server(args.db) if baseline_server else None
        baseline = baseline_ctx.__enter__() if baseline_ctx else None
        try:
            baseline_script = post_form_script(BASELINE_FIELDS) if baseline is not None else None
            if baseline is not None:
                run_wrk(baseline + "/submit", duration=2, script=baseline_script)

            def one_run() -> dict:
                app = run_wrk(
                    base + "/report", duration=args.duration, script=script, server_pid=base.pid
                )
                if app["non2xx"] or app["socket_errors"]:
                    raise SystemExit(f"the app answered errors: {app}")
                row = {
                    "app req/s": app["requests_per_sec"],
                    "app p50 ms": app["latency_p50_ms"],
                    "app p99 ms": app["latency_p99_ms"],
                    "app CPU ms/req": app["cpu_ms_per_request"],
                }
                if baseline is not None:
                    bare = run_wrk(
                        baseline + "/submit",
                        duration=args.duration,
                        script=baseline_script,
                        server_pid=baseline.pid,
                    )
                    row["bare req/s"] = bare["requests_per_sec"]
                    row["bare CPU ms/req"] = bare["cpu_ms_per_request"]
                    row["app/bare"] = app["requests_per_sec"] / bare["requests_per_sec"]
                    row["CPU app/bare"] = app["cpu_ms_per_request"] / bare["cpu_ms_per_request"]
                return row

            stats = repeat(one_run, runs=args.runs)
        finally:
            if baseline_ctx is not None:
                baseline_ctx.__exit__(None, None, None)
        made = count_cases(url) - before
    scratch.cleanup()

    print(f"\nmedian (min–max) of {args.runs} runs of {args.duration:g} s each:\n")
    report_table([{"measure": name, "value": value} for name, value in stats.items()])
    if baseline_server is None:
        print("\n(no bench/baselines.py here: bare baseline not measured)")
    print(f"\ncases created: {made:,}; target ≥ 200 submissions/s:", end=" ")
    print("met" if stats["app req/s"]["median"] >= 200 else "NOT met")


if __name__ == "__main__":
    main()
