"""How fast the outbox delivers letters to a local SMTP server, beside bare smtplib.

    .venv/bin/python bench/outbox.py                      # SQLite, 500 letters, 3 runs
    .venv/bin/python bench/outbox.py --db postgres --letters 1000 --runs 5
    .venv/bin/python bench/outbox.py --urls 0             # letters that cover no case

An aiosmtpd server runs in a subprocess on 127.0.0.1 (a handler that counts
and discards). Each run makes N letters (one rendered one-page PDF, stored
per letter as the notice run stores it), queues them through the real
``enqueue_letter``, then times one run of the outbox job as the scheduler
runs it: claim, commit the hand-over, send, record, three commits per
message, one SMTP connection for the run. The baseline, in the same run,
is bare smtplib composing the same N messages with ``EmailMessage`` and
sending them over one connection with ``send_message`` (no database).
Each letter covers ``--urls`` assessed cases (default 3, the PDF's three
lines) and has a response link, so each e-mail carries the link and one
X-ARF report per case, as a notice to a hosting provider does.
Reported: letters a second (median and min-max over the runs) for both,
and the ratio. Exit status 1 if a letter was not delivered exactly once.

PostgreSQL: ``--pg-url`` (default postgresql://postgres@127.0.0.1:5432/postgres)
names a server where the database ``bench_outbox`` is dropped and made anew.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)

SERVER = """
import asyncio, sys, threading
from aiosmtpd.controller import Controller

class Counter:
    count = 0
    async def handle_DATA(self, server, session, envelope):
        Counter.count += 1
        return "250 OK"

controller = Controller(Counter(), hostname="127.0.0.1", port=int(sys.argv[1]),
                        server_hostname="bench.local")
controller.start()
print("ready", flush=True)
for line in sys.stdin:
    if line.strip() == "count":
        print(Counter.count, flush=True)
controller.stop()
"""


class SmtpServer:
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

    def count(self) -> int:
        self.process.stdin.write("count\n")
        self.process.stdin.flush()
        return int(self.process.stdout.readline())

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(10)


def one_page_pdf() -> bytes:
    from casemgr.notices.pdf.layout import render_letter
    from casemgr.notices.pdf.letter import Letter, LetterLine
    from casemgr.pdf.letterhead import Letterhead

    letter = Letter(
        kind="notice",
        reference="CM-N-2026-000001",
        date=NOW,
        recipient_name="Example Hosting Ltd",
        recipient_address="1 Server Street\nPhnom Penh",
        recipient_email="abuse@host.example",
        lines=[
            LetterLine(
                case_reference=f"CM-2026-{i:06d}",
                url=f"http://files.host.example/album/{i}/view?id=abcdef{i}",
                first_seen=NOW - timedelta(days=1),
                classification_basis="Child sexual abuse material (international baseline)",
            )
            for i in range(1, 4)
        ],
        deadline=NOW + timedelta(hours=72),
        legal_basis="Illegal under national law and the international baseline.",
        request="Please remove the content at each URL listed.",
        closing="Yours faithfully,\nExample Hotline",
        language="en",
    )
    return render_letter(letter, Letterhead("Example Hotline", "1 Example Street", "h@ex.org"))


def make_app(url: str, port: int):
    from casemgr import create_app

    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": port,
            "SMTP_SECURITY": "none",
            "MAIL_FROM": "notices@hotline.example.org",
            "PUBLIC_BASE_URL": "https://hotline.example.org",
        }
    )


def fresh_database(kind: str, pg_url: str, folder: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{folder}/bench_outbox.db"
    import sqlalchemy as sa

    admin = sa.create_engine(
        pg_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(sa.text('DROP DATABASE IF EXISTS "bench_outbox" WITH (FORCE)'))
        connection.execute(sa.text('CREATE DATABASE "bench_outbox"'))
    admin.dispose()
    return sa.make_url(pg_url).set(database="bench_outbox").render_as_string(hide_password=False)


def queue_letters(count: int, pdf: bytes, run: int, urls: int = 3) -> None:
    from flask import current_app

    from casemgr.cases.models import Case, Submission
    from casemgr.extensions import db
    from casemgr.notices.models import Notice, NoticeCase
    from casemgr.outbox.queueing import enqueue_letter
    from casemgr.responses.links import LinkSettings, keep_link, new_link

    digest = hashlib.sha256(pdf).hexdigest()
    links = LinkSettings.from_config(current_app.config)
    submission = Submission(reference=f"CM-S-2026-{run:06d}", source="public", received_at=NOW)
    db.session.add(submission)
    for i in range(count):
        notice = Notice(
            reference=f"CM-N-2026-{run:02d}{i:05d}",
            kind="notice",
            recipient_kind="hosting_provider",
            recipient_name=f"Host {i}",
            recipient_email=f"abuse{i}@host{i}.example",
            recipient_address="",
            language="en",
            manual_delivery=False,
            case_count=3,
            pdf=pdf,
            sha256=digest,
            size=len(pdf),
            created_at=NOW,
        )
        covered = [
            Case(
                reference=f"CM-2026-{run:02d}{i:05d}{n}",
                submission=submission,
                url=f"http://files.host{i}.example/album/{n}/view?id=abcdef{n}",
                url_hash=hashlib.sha256(f"{run} {i} {n}".encode()).hexdigest(),
                host=f"files.host{i}.example",
                status="notice_sent",
                classification="illegal_baseline",
                media_type="image",
                hosting_country="KH",
                received_at=NOW - timedelta(days=1),
                assessed_at=NOW - timedelta(hours=20),
                updated_at=NOW,
            )
            for n in range(1, urls + 1)
        ]
        db.session.add_all([notice, *covered])
        db.session.flush()
        notice.links = [NoticeCase(case_id=case.id, kind="notice", step_at=NOW) for case in covered]
        link = new_link(links)
        if link is not None:
            keep_link(db.session, link, notice_id=notice.id, now=NOW, settings=links)
        enqueue_letter(db.session, notice, now=NOW)
    db.session.commit()


def app_run(app, count: int, pdf: bytes, run: int, server: SmtpServer, urls: int) -> float:
    from sqlalchemy import func, select

    from casemgr.extensions import db
    from casemgr.jobs import outbox as outbox_job
    from casemgr.outbox.models import SENT, OutboxMessage

    with app.app_context():
        queue_letters(count, pdf, run, urls)
        before = server.count()
        started = time.perf_counter()
        summary = outbox_job.run(db.session, NOW, app)
        db.session.commit()
        elapsed = time.perf_counter() - started
        sent = db.session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.status == SENT)
        )
        received = server.count() - before
        db.session.remove()
    if summary.counts["sent"] != count or received != count or sent != count * run:
        raise SystemExit(f"run {run}: sent {summary.counts['sent']}, received {received}")
    return count / elapsed


def baseline_run(count: int, pdf: bytes, port: int) -> float:
    """Bare smtplib: compose each message with EmailMessage and send it, one
    connection, no database."""
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for i in range(count):
            message = EmailMessage()
            message["From"] = "notices@hotline.example.org"
            message["To"] = f"abuse{i}@host{i}.example"
            message["Subject"] = f"Takedown notice CM-N-2026-{i:06d}"
            message.set_content("Please find attached our letter.")
            message.add_attachment(pdf, maintype="application", subtype="pdf", filename="x.pdf")
            smtp.send_message(message)
    return count / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--letters", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--urls", type=int, default=3, help="cases (X-ARF reports) a letter")
    args = parser.parse_args()

    from flask_migrate import upgrade

    from casemgr.extensions import db

    server = SmtpServer()
    pdf = one_page_pdf()
    folder = tempfile.mkdtemp(prefix="bench-outbox-")
    url = fresh_database(args.db, args.pg_url, folder)
    app = make_app(url, server.port)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    app_rates, base_rates = [], []
    try:
        for run in range(1, args.runs + 1):
            base_rates.append(baseline_run(args.letters, pdf, server.port))
            app_rates.append(app_run(app, args.letters, pdf, run, server, args.urls))
    finally:
        server.stop()

    def show(rates: list[float]) -> str:
        return f"{statistics.median(rates):7.0f} ({min(rates):.0f}-{max(rates):.0f})"

    print(f"## bench/outbox.py, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(
        f"{os.cpu_count()} CPUs, {platform.python_implementation()} {platform.python_version()}, "
        f"{args.db}, {args.letters} letters of {len(pdf)} bytes and {args.urls} X-ARF reports "
        f"a run, {args.runs} runs, "
        f"load average at the end {os.getloadavg()[0]:.2f}"
    )
    print()
    print("| what | letters/s, median (min-max) |")
    print("|---|---|")
    print(f"| bare: EmailMessage + smtplib, one connection, no database | {show(base_rates)} |")
    print(f"| outbox job (claim, hand-over, send, record) | {show(app_rates)} |")
    ratio = statistics.median(app_rates) / statistics.median(base_rates)
    print(f"| ratio outbox / bare | {ratio:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
