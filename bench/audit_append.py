"""Appending to the audit log under concurrent writers, beside a bare chained INSERT (issue 19).

    .venv/bin/python bench/audit_append.py                    # PostgreSQL, 1/4/8 writers, 3 runs
    .venv/bin/python bench/audit_append.py --writers 1 8 --appends 500 --runs 5

Each writer is a thread with its own app context and connection that
commits ``--appends`` transactions of one audit entry each, through the
real ``casemgr.audit.services.record`` and the chain's commit hook (the
chain's lock, the head, the hash, the INSERT, the COMMIT), all writers at
once. The baseline, in the same run and with the same number of threads,
is the least a chained append can cost: a bare psycopg connection per
writer doing ``pg_advisory_xact_lock``, ``SELECT`` of the newest hash,
a SHA-256 in Python and one ``INSERT`` into a bare table of the same
columns, then ``COMMIT``. Reported per writer count: entries a second
(median and min-max over the runs) for both, the ratio app/bare, the CPU
time of this process (Python and the driver, not the PostgreSQL server) per
app entry and its ratio to the bare one's (steadier than entries a second
when other work shares the CPUs), and the app's commit latency (median and
p99 over every commit of the run).

Runs the same on the code before issue 19 (plain SHA-256) and after (HMAC
under AUDIT_KEY): only ``record`` and ``create_app`` are used. The database
``bench_audit`` (on ``--pg-url``'s server) is dropped and made anew, and
migrated to head by the checkout being measured; the log grows from run to
run, as a real one does.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import shlex
import statistics
import sys
import threading
import time
from datetime import UTC, datetime

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]

import lib  # noqa: E402

BARE_TABLE = """
CREATE TABLE bare_audit (
    id serial PRIMARY KEY, created_at timestamptz NOT NULL, actor_id int,
    action varchar(60) NOT NULL, target_type varchar(40), target_id varchar(64),
    details json NOT NULL, prev_hash varchar(64) NOT NULL, entry_hash varchar(64) NOT NULL
)
"""
DETAILS = {"from": "triage", "to": "action_required", "action": "assess", "n": 0}


def fresh_database(pg_url: str) -> str:
    import psycopg

    admin = psycopg.connect(pg_url, autocommit=True)
    admin.execute("DROP DATABASE IF EXISTS bench_audit WITH (FORCE)")
    admin.execute("CREATE DATABASE bench_audit")
    admin.close()
    base = pg_url.rsplit("/", 1)[0]
    return f"{base}/bench_audit"


def make_app(url: str):
    from cryptography.fernet import Fernet

    os.environ["CASEMGR_ENV"] = "production"
    from casemgr import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": secrets.token_hex(32),
            "CONTACT_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "AUDIT_KEY": secrets.token_urlsafe(32),  # ignored by the code before issue 19
            "REQUEST_LOG": False,
        }
    )


def print_header(title: str, url: str) -> None:
    """Title, date, exact command and machine facts (lib.print_header needs wrk)."""
    import psycopg

    with psycopg.connect(url) as connection:
        server = connection.execute("SHOW server_version").fetchone()[0]
    print(f"## {title}\n")
    print(f"- date: {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    print(f"- command: `{shlex.join([os.path.relpath(sys.executable), *sys.argv])}`")
    print(
        f"- machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start; "
        f"Python {sys.version.split()[0]}; PostgreSQL {server}\n"
    )


def run_writers(writers: int, work) -> tuple[float, float, list[float]]:
    """``work(number, latencies)`` in ``writers`` threads started together;
    (seconds for all, this process's CPU seconds meanwhile, every commit's
    latency in ms)."""
    barrier = threading.Barrier(writers + 1)
    latencies: list[float] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def thread(number: int) -> None:
        mine: list[float] = []
        try:
            work(number, mine, barrier)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
            barrier.abort()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=thread, args=(n,)) for n in range(writers)]
    for each in threads:
        each.start()
    barrier.wait()
    started, cpu = time.perf_counter(), time.process_time()
    for each in threads:
        each.join()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    if failures:
        raise RuntimeError(f"a writer failed: {failures[0]!r}") from failures[0]
    return elapsed, cpu, latencies


def app_work(app, appends: int):
    from casemgr.audit.services import record
    from casemgr.extensions import db

    def work(number: int, latencies: list[float], barrier) -> None:
        with app.app_context():
            db.session.connection()  # connected before the start
            db.session.commit()
            barrier.wait()
            for index in range(appends):
                started = time.perf_counter()
                record(
                    db.session,
                    action="case.action",
                    now=datetime.now(UTC),
                    actor_id=None,
                    target_type="case",
                    target_id=number * appends + index,
                    details={**DETAILS, "n": index},
                )
                db.session.commit()
                latencies.append((time.perf_counter() - started) * 1000)
            db.session.remove()

    return work


def bare_work(url: str, appends: int):
    import psycopg

    def work(number: int, latencies: list[float], barrier) -> None:
        with psycopg.connect(url) as connection:
            barrier.wait()
            for index in range(appends):
                started = time.perf_counter()
                with connection.transaction():
                    connection.execute("SELECT pg_advisory_xact_lock(42)")
                    row = connection.execute(
                        "SELECT entry_hash FROM bare_audit ORDER BY id DESC LIMIT 1"
                    ).fetchone()
                    previous = row[0] if row else "0" * 64
                    now = datetime.now(UTC)
                    details = {**DETAILS, "n": index}
                    document = json.dumps(
                        {
                            "action": "case.action",
                            "actor_id": None,
                            "created_at": now.isoformat(),
                            "details": details,
                            "prev_hash": previous,
                            "target_id": str(number * appends + index),
                            "target_type": "case",
                        },
                        sort_keys=True,
                        separators=(",", ":"),
                    )
                    connection.execute(
                        "INSERT INTO bare_audit (created_at, action, target_type, target_id, "
                        "details, prev_hash, entry_hash) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                        (
                            now,
                            "case.action",
                            "case",
                            str(number * appends + index),
                            json.dumps(details),
                            previous,
                            hashlib.sha256(document.encode()).hexdigest(),
                        ),
                    )
                latencies.append((time.perf_counter() - started) * 1000)

    return work


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--appends", type=int, default=300, help="commits per writer and run")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    url = fresh_database(args.pg_url)
    print_header("Audit log append under concurrent writers (issue 19)", url)
    app = make_app(url)
    from flask_migrate import upgrade
    from sqlalchemy import func, select, text

    from casemgr.audit.models import AuditEntry
    from casemgr.extensions import db

    with app.app_context():
        upgrade()
        db.session.execute(text(BARE_TABLE))
        db.session.commit()
    bare_url = url
    app_work(app, 20)(0, [], threading.Barrier(1))  # warm-up, discarded
    rows = []
    for writers in args.writers:
        app_latencies: list[float] = []

        def one_run(writers: int = writers, app_latencies: list[float] = app_latencies) -> dict:
            total = writers * args.appends
            bare_seconds, bare_cpu, _ = run_writers(writers, bare_work(bare_url, args.appends))
            app_seconds, app_cpu, latencies = run_writers(writers, app_work(app, args.appends))
            app_latencies.extend(latencies)
            return {
                "bare": total / bare_seconds,
                "app": total / app_seconds,
                "ratio": (total / app_seconds) / (total / bare_seconds),
                "app_cpu": 1000 * app_cpu / total,
                "cpu_ratio": app_cpu / bare_cpu,
            }

        stats = lib.repeat(one_run, runs=args.runs)
        ordered = sorted(app_latencies)
        rows.append(
            {
                "writers": writers,
                "app entries/s": stats["app"],
                "bare entries/s": stats["bare"],
                "app/bare": stats["ratio"],
                "app CPU ms/entry": stats["app_cpu"],
                "CPU app/bare": stats["cpu_ratio"],
                "app commit p50 ms": statistics.median(ordered),
                "app commit p99 ms": ordered[int(len(ordered) * 0.99) - 1],
            }
        )
    lib.report_table(rows)
    with app.app_context():
        entries = db.session.scalar(select(func.count()).select_from(AuditEntry))
        expected = 20 + sum(w * args.appends * args.runs for w in args.writers)
        verdict = _verify(db.session)
        db.session.remove()
        db.engine.dispose()
    print(f"\n- entries in the log: {entries:,} (expected {expected:,}); chain: {verdict}")
    print(f"- load average (1 min) at the end: {os.getloadavg()[0]:.2f}")
    if entries != expected or not verdict.startswith("OK"):
        raise SystemExit(1)


def _verify(session) -> str:
    """The chain checked as `audit verify` checks it (before or after issue 19)."""
    try:
        from casemgr.audit import chain, verification

        verdict = verification.verify(session, chain.current_keys())
    except ImportError:
        from casemgr.audit import chain

        verdict = chain.verify(session)
    return f"OK, {verdict.count:,} entries" if verdict.ok else f"BROKEN at {verdict.broken_id}"


if __name__ == "__main__":
    main()
