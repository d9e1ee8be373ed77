"""How fast provider replies are ingested, beside bare parsing and one INSERT each.

    .venv/bin/python bench/mail_ingest.py                      # SQLite, 10,000 replies, 3 runs
    .venv/bin/python bench/mail_ingest.py --db postgres --replies 10000 --runs 3

Setup (not timed): 200 letters of 5 cases each, made as the notice run
leaves them (cases received through ``receive_report``, a ``Notice`` with
its ``NoticeCase`` rows, its outbox message sent with a Message-ID). Each
run then ingests N reply messages (Outlook-shaped: multipart/alternative
text and HTML, one 40 KB attachment, ``In-Reply-To`` one of the letters)
through :func:`casemgr.inbound.services.ingest`, one commit per message as
``mail ingest`` and the ``mail`` job do: parse, insert once, match, link 5
cases, write 5 history events. The baseline, in the same run, parses the
same messages with the stdlib (``policy.default``, ``get_body``) and inserts
one row per message into a bare table, one commit each. Reported: messages
a second, median and min-max over the runs, and the ratio. Exit status 1 if
a reply was not stored, matched and threaded exactly once.

PostgreSQL: ``--pg-url`` (default postgresql://postgres@127.0.0.1:5432/postgres)
names a server where the database ``bench_mail_ingest`` is dropped and made
anew (and dropped again at the end).
"""

from __future__ import annotations

import argparse
import email
import email.policy
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
LETTERS, CASES_PER_LETTER = 200, 5
DB_NAME = "bench_mail_ingest"
ATTACHMENT = os.urandom(40 * 1024)


def reply(run: int, number: int, letter_message_id: str, reference: str) -> bytes:
    import base64

    body = base64.encodebytes(ATTACHMENT).decode()
    return f"""From: Abuse Desk <abuse{number % LETTERS}@provider.example>
To: notices@hotline.example.org
Subject: RE: Notice {reference}
Date: Mon, 30 Nov 2026 10:13:58 +0000
Message-ID: <bench-{run}-{number}@provider.example>
In-Reply-To: {letter_message_id}
References: {letter_message_id}
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mixed"

--mixed
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset="us-ascii"

Hello, the content of {reference} has been removed (reply {number}).

From: notices@hotline.example.org
Subject: Notice {reference}
--alt
Content-Type: text/html; charset="us-ascii"

<html><body><p>Hello, the content has been removed.</p></body></html>
--alt--

--mixed
Content-Type: image/png; name="screenshot.png"
Content-Disposition: attachment; filename="screenshot.png"
Content-Transfer-Encoding: base64

{body}--mixed--
""".encode()


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


def drop_database(kind: str, pg_url: str) -> None:
    if kind != "postgres":
        return
    import sqlalchemy as sa

    admin = sa.create_engine(
        pg_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
    admin.dispose()


def make_letters() -> list[tuple[str, str]]:
    """(Message-ID, reference) of each letter made."""
    from casemgr import context
    from casemgr.cases import receiving
    from casemgr.extensions import db
    from casemgr.notices.models import Notice, NoticeCase
    from casemgr.outbox.models import SENT
    from casemgr.outbox.queueing import enqueue_letter

    letters = []
    for i in range(LETTERS):
        received = receiving.receive_report(
            db.session,
            receiving.ReportInput(
                urls=[f"http://files{i}.example.com/{n}" for n in range(CASES_PER_LETTER)],
                source="public",
            ),
            now=NOW - timedelta(days=2),
            timings=context.timings(),
            cipher=context.cipher(),
            reference_prefix=context.reference_prefix(),
            languages=context.setting("LANGUAGES"),
        )
        notice = Notice(
            reference=f"CM-N-2026-{i + 1:06d}",
            kind="notice",
            recipient_kind="hosting_provider",
            recipient_name=f"Host {i}",
            recipient_email=f"abuse{i}@provider.example",
            recipient_address="",
            language="en",
            manual_delivery=False,
            case_count=CASES_PER_LETTER,
            pdf=b"%PDF-1.4 bench",
            sha256="0" * 64,
            size=14,
            created_at=NOW,
        )
        db.session.add(notice)
        db.session.flush()
        for case in received.submission.cases:
            db.session.add(
                NoticeCase(notice_id=notice.id, case_id=case.id, kind="notice", step_at=NOW)
            )
        row = enqueue_letter(db.session, notice, now=NOW)
        row.message_id = f"<letter-{i}@hotline.example.org>"
        row.status, row.sent_at, notice.sent_at = SENT, NOW, NOW
        letters.append((row.message_id, notice.reference))
    db.session.commit()
    return letters


def app_run(app, messages: list[bytes]) -> float:
    from casemgr.extensions import db
    from casemgr.inbound.services import InboundSettings, ingest

    settings = InboundSettings.from_config(app.config)
    with app.app_context():
        started = time.perf_counter()
        for raw in messages:
            result = ingest(db.session, raw, now=NOW, settings=settings)
            db.session.commit()
            if result.duplicate or len(result.case_ids) != CASES_PER_LETTER:
                raise SystemExit(f"not threaded once: {result}")
        elapsed = time.perf_counter() - started
        db.session.remove()
    return len(messages) / elapsed


def baseline_run(app, messages: list[bytes]) -> float:
    """The stdlib parses (the text body), one bare INSERT and commit a message."""
    import sqlalchemy as sa

    from casemgr.extensions import db

    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(sa.text("DROP TABLE IF EXISTS bench_bare_mail"))
            connection.execute(
                sa.text(
                    "CREATE TABLE bench_bare_mail (message_id VARCHAR(255) PRIMARY KEY, "
                    "subject TEXT, text TEXT)"
                )
            )
        insert = sa.text("INSERT INTO bench_bare_mail VALUES (:m, :s, :t)")
        started = time.perf_counter()
        with db.engine.connect() as connection:
            for raw in messages:
                message = email.message_from_bytes(raw, policy=email.policy.default)
                body = message.get_body(preferencelist=("plain", "html"))
                text = body.get_content() if body is not None else ""
                connection.execute(
                    insert, {"m": message["Message-ID"], "s": message["Subject"], "t": text}
                )
                connection.commit()
        elapsed = time.perf_counter() - started
    return len(messages) / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--replies", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from flask_migrate import upgrade

    from casemgr import create_app
    from casemgr.clock import FixedClock
    from casemgr.extensions import db

    folder = tempfile.mkdtemp(prefix="bench-mail-")
    url = fresh_database(args.db, args.pg_url, folder)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url}, clock=FixedClock(NOW))
    with app.app_context():
        upgrade()
        letters = make_letters()
        db.session.remove()
    app_rates, base_rates = [], []
    try:
        for run in range(1, args.runs + 1):
            messages = [reply(run, n, *letters[n % len(letters)]) for n in range(args.replies)]
            base_rates.append(baseline_run(app, messages))
            app_rates.append(app_run(app, messages))
        with app.app_context():
            from sqlalchemy import func, select

            from casemgr.cases.models import CaseEvent
            from casemgr.inbound.models import InboundMail

            mails = db.session.scalar(select(func.count(InboundMail.id)))
            events = db.session.scalar(
                select(func.count(CaseEvent.id)).where(CaseEvent.action == "provider_reply")
            )
            db.session.remove()
            db.engine.dispose()
        expected = args.replies * args.runs
        if mails != expected or events != expected * CASES_PER_LETTER:
            raise SystemExit(f"{mails} mails and {events} events, expected {expected}")
    finally:
        drop_database(args.db, args.pg_url)

    def show(rates: list[float]) -> str:
        return f"{statistics.median(rates):7.0f} ({min(rates):.0f}-{max(rates):.0f})"

    size = len(reply(1, 1, *letters[0]))
    print(f"## bench/mail_ingest.py, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(
        f"{os.cpu_count()} CPUs, {platform.python_implementation()} {platform.python_version()}, "
        f"{args.db}, {args.replies} replies of {size} bytes a run, {args.runs} runs, "
        f"load average at the end {os.getloadavg()[0]:.2f}"
    )
    print()
    print("| what | messages/s, median (min-max) |")
    print("|---|---|")
    print(f"| bare: stdlib parse + 1 INSERT, commit each | {show(base_rates)} |")
    print(f"| ingest (parse, store once, match, thread into 5 cases) | {show(app_rates)} |")
    ratio = statistics.median(app_rates) / statistics.median(base_rates)
    print(f"| ratio ingest / bare | {ratio:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
