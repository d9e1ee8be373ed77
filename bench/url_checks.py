"""A removal-check run over 10,000 cases against a local HTTP server, beside bare http.client.

    .venv/bin/python bench/url_checks.py                       # SQLite, 10,000 cases, 3 runs
    .venv/bin/python bench/url_checks.py --db postgres --runs 5

A stdlib ``ThreadingHTTPServer`` runs in a subprocess on 127.0.0.1 and
answers HEAD: 404 for paths under ``/gone/``, 200 otherwise (it counts the
requests, and any method but HEAD). The cases (``notice_sent``, inserted
directly) are spread over ``--hosts`` host names (2,000: five URLs a host,
``URL_CHECK_PER_HOST`` = 5, so one run checks every case), all resolving to
127.0.0.1 through an injected resolver; half of the URLs are gone.

Each run makes the cases anew, then times two runs of the job as the
scheduler runs them (``URL_CHECKS_ENABLED``, 8 workers, batches of 1,000):

- **first**: 10,000 checks recorded, one "removal check" event per case (the
  first outcome);
- **second** (25 h later): 10,000 checks, and ``report_removal`` for the 5,000
  gone twice (an event, an audit entry and the case's update each).

The baseline, in the same run, is bare ``http.client`` sending the same
10,000 HEAD requests from a pool of 8 threads (one connection per request, no
database, no DNS, no checks of addresses). Reported: checks a second (median
and min-max over the runs) for both job runs and the baseline, and the ratio.
Exit status 1 if a case was not checked, a removal not reported, or the server
saw anything but HEAD.

PostgreSQL: ``--pg-url`` (default postgresql://postgres@127.0.0.1:5432/postgres)
names a server where the database ``bench_url_checks`` is dropped and made anew,
and dropped again at the end.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
DB_NAME = "bench_url_checks"

SERVER = """
import sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

counts = {"HEAD": 0, "other": 0}
lock = threading.Lock()

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass
    def do_HEAD(self):
        with lock:
            counts["HEAD"] += 1
        self.send_response(404 if self.path.startswith("/gone/") else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.close_connection = True
    def do_GET(self):
        with lock:
            counts["other"] += 1
        self.send_response(405)
        self.end_headers()

server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
server.daemon_threads = True
server.request_queue_size = 128
threading.Thread(target=server.serve_forever, daemon=True).start()
print("ready", flush=True)
for line in sys.stdin:
    if line.strip() == "count":
        print(counts["HEAD"], counts["other"], flush=True)
server.shutdown()
"""


class HttpServer:
    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(self.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout.readline().strip() == "ready"

    def count(self) -> tuple[int, int]:
        self.process.stdin.write("count\n")
        self.process.stdin.flush()
        head, other = self.process.stdout.readline().split()
        return int(head), int(other)

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(10)


def urls(port: int, cases: int, hosts: int) -> list[str]:
    """Case i on host i % hosts; every other one gone."""
    return [
        f"http://h{i % hosts:05d}.bench.test:{port}/{'gone' if i % 2 else 'live'}/{i}"
        for i in range(cases)
    ]


def resolver(host: str) -> list[str]:
    return ["127.0.0.1"]


def make_app(url: str, workers: int):
    from casemgr import create_app

    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "URL_CHECKS_ENABLED": True,
            "URL_CHECK_ALLOW_PRIVATE": True,
            "URL_CHECK_PER_HOST": 5,
            "URL_CHECK_MAX_PER_RUN": 100_000,
            "URL_CHECK_WORKERS": workers,
            "URL_CHECK_BATCH": 1000,
        }
    )


def fresh_database(kind: str, pg_url: str, folder: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{folder}/{DB_NAME}.db"
    import sqlalchemy as sa

    admin = sa.create_engine(
        pg_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{DB_NAME}"'))
    admin.dispose()
    return sa.make_url(pg_url).set(database=DB_NAME).render_as_string(hide_password=False)


def drop_database(pg_url: str) -> None:
    import sqlalchemy as sa

    admin = sa.create_engine(
        pg_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
    admin.dispose()


def make_cases(all_urls: list[str], run: int) -> None:
    """Cases waiting for removal, inserted directly (the workflow made them elsewhere)."""
    from sqlalchemy import delete, insert

    from casemgr.cases.models import Case, CaseEvent, Submission
    from casemgr.checks.models import UrlCheck
    from casemgr.extensions import db

    for model in (UrlCheck, CaseEvent, Case, Submission):
        db.session.execute(delete(model))
    received = NOW - timedelta(days=5)
    submission = Submission(reference=f"CM-S-2026-{run:06d}", source="public", received_at=received)
    db.session.add(submission)
    db.session.flush()
    rows = [
        {
            "reference": f"CM-2026-{run:02d}{i:05d}",
            "submission_id": submission.id,
            "url": url,
            "url_hash": f"{run:02d}{i:062d}",
            "host": url.split("/")[2].split(":")[0],
            "status": "notice_sent",
            "classification": "illegal_baseline",
            "received_at": received,
            "notice_sent_at": received + timedelta(hours=2),
            "due_at": NOW + timedelta(days=1),
            "next_reminder_at": NOW + timedelta(days=1),
            "updated_at": received,
            "version": 1,
        }
        for i, url in enumerate(all_urls)
    ]
    for start in range(0, len(rows), 2000):
        db.session.execute(insert(Case), rows[start : start + 2000])
    db.session.commit()


def app_run(app, all_urls: list[str], run: int, server: HttpServer) -> tuple[float, float]:
    from sqlalchemy import func, select

    from casemgr.cases.models import Case
    from casemgr.extensions import db
    from casemgr.jobs import url_checks

    with app.app_context():
        make_cases(all_urls, run)
        timings = []
        summaries = []
        for moment in (NOW, NOW + timedelta(hours=25)):
            started = time.perf_counter()
            summary = url_checks.run(db.session, moment, app, resolver=resolver)
            db.session.commit()
            timings.append(len(all_urls) / (time.perf_counter() - started))
            summaries.append(summary)
        reported = db.session.scalar(
            select(func.count(Case.id)).where(Case.removal_reported_by == "check")
        )
        db.session.remove()
    first, second = summaries
    problems = []
    if first.checked != len(all_urls) or second.checked != len(all_urls):
        problems.append(f"checked {first.checked} and {second.checked}")
    if second.counts["reported"] != len(all_urls) // 2 or reported != len(all_urls) // 2:
        problems.append(f"reported {second.counts['reported']} ({reported} in the database)")
    if first.failed or second.failed:
        problems.append(f"failures: {first.failures + second.failures}")
    if problems:
        raise SystemExit(f"run {run}: " + "; ".join(problems))
    return timings[0], timings[1]


def baseline_run(all_urls: list[str], workers: int) -> float:
    """Bare http.client: the same HEAD requests from a pool, nothing else."""

    def head(url: str) -> int:
        rest = url.split("//", 1)[1]
        hostport, path = rest.split("/", 1)
        host, port = hostport.split(":")
        connection = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
        connection.request("HEAD", "/" + path, headers={"Host": hostport})
        status = connection.getresponse().status
        connection.close()
        return status

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        statuses = list(pool.map(head, all_urls))
    elapsed = time.perf_counter() - started
    if statuses.count(404) != len(all_urls) // 2:
        raise SystemExit("baseline: unexpected answers")
    return len(all_urls) / elapsed


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}–{max(values):,.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--hosts", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    args = parser.parse_args()
    if args.cases > args.hosts * 5:
        raise SystemExit("--cases must be at most 5 × --hosts (URL_CHECK_PER_HOST)")

    from flask_migrate import upgrade

    server = HttpServer()
    folder = tempfile.mkdtemp(prefix="bench-url-checks-")
    url = fresh_database(args.db, args.pg_url, folder)
    app = make_app(url, args.workers)
    with app.app_context():
        upgrade()
    all_urls = urls(server.port, args.cases, args.hosts)
    firsts, seconds, bases = [], [], []
    try:
        for run in range(1, args.runs + 1):
            bases.append(baseline_run(all_urls, args.workers))
            first, second = app_run(app, all_urls, run, server)
            firsts.append(first)
            seconds.append(second)
            print(
                f"run {run}: baseline {bases[-1]:,.0f}/s, first {first:,.0f}/s, "
                f"second {second:,.0f}/s",
                file=sys.stderr,
            )
        head, other = server.count()
    finally:
        server.stop()
        if args.db == "postgres":
            with app.app_context():
                from casemgr.extensions import db

                db.engine.dispose()
            drop_database(args.pg_url)
    expected = args.runs * args.cases * 3  # baseline + two job runs
    if other or head != expected:
        raise SystemExit(f"the server saw {head} HEAD (expected {expected}) and {other} others")
    base = statistics.median(bases)
    print(f"\n{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {' '.join(sys.argv)}")
    print(
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.2f}, {args.db}, {args.cases:,} cases on "
        f"{args.hosts:,} hosts, {args.workers} workers, {args.runs} runs\n"
    )
    print("| what | checks/s, median (min–max) | ratio to bare http.client |")
    print("|---|---|---|")
    print(f"| bare http.client HEAD, {args.workers} threads | {spread(bases)} | 1.00 |")
    print(
        f"| url_checks, first run (checks + events) | {spread(firsts)} "
        f"| {statistics.median(firsts) / base:.2f} |"
    )
    print(
        f"| url_checks, second run (checks + {args.cases // 2:,} report_removal) "
        f"| {spread(seconds)} | {statistics.median(seconds) / base:.2f} |"
    )


if __name__ == "__main__":
    main()
