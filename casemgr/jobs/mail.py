"""The mail run: read provider replies from the IMAP mailbox ``IMAP_URL``.

``flask --app wsgi jobs run mail``; the scheduler runs it every few minutes.
It fetches the unseen messages in batches of ``IMAP_BATCH_SIZE`` (at most
``IMAP_MAX_PER_RUN`` a run), stores each in a transaction of its own
(:func:`casemgr.inbound.services.ingest`) and only then flags it ``\\Seen``.
A server that is down, slow or drops the connection ends the run with the
failure in its summary: what was stored stays stored, what was not stays
unseen on the server for the next run, and a message stored but not yet
flagged is read again and found a duplicate. Input that is no message at
all is flagged ``\\Seen`` and counted as a failure (it stays on the server).
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from datetime import datetime

from flask import Flask
from sqlalchemy.orm import Session

from casemgr.inbound.imap import IMAP_ERRORS, ImapTarget, Mailbox
from casemgr.inbound.parsing import Unreadable
from casemgr.inbound.services import InboundSettings, Ingested, ingest
from casemgr.jobs.base import JobSummary, run_batch

NAME = "mail"
UNREADABLE = "unreadable"


class MailSummary(JobSummary):
    def line(self) -> str:
        counts = ", ".join(
            f"{name} {value}" for name, value in sorted(self.counts.items()) if value
        )
        what = counts or "nothing new"
        return f"{self.job} as of {self.now.isoformat()}: {what}; {self.failed} failed"


def run(
    session: Session,
    now: datetime,
    app: Flask,
    *,
    mailbox: Callable[[ImapTarget, float], Mailbox] | None = None,
) -> MailSummary:
    summary = MailSummary(NAME, now)
    url = app.config.get("IMAP_URL") or ""
    if not url:
        summary.counts["not_configured"] = 1
        return summary
    try:
        target = ImapTarget.from_url(url)
    except ValueError as exc:
        summary.failures.append(str(exc))
        return summary
    settings = InboundSettings.from_config(app.config)
    batch_size = max(1, int(app.config.get("IMAP_BATCH_SIZE", 20)))
    limit = max(1, int(app.config.get("IMAP_MAX_PER_RUN", 500)))
    timeout = float(app.config.get("IMAP_TIMEOUT", 30))
    ca_file = str(app.config.get("IMAP_CA_FILE") or "")
    try:
        tls = ssl.create_default_context(cafile=ca_file or None)
    except (OSError, ssl.SSLError) as exc:
        summary.failures.append(f"IMAP_CA_FILE {ca_file}: cannot be read ({exc})")
        return summary
    opened = mailbox or (lambda t, s: Mailbox(t, timeout=s, ssl_context=tls))

    def store(raw: bytes) -> Ingested | str:
        try:
            return ingest(session, raw, now=now, settings=settings)
        except Unreadable as exc:
            return f"{UNREADABLE}: {exc}"

    step = "connecting"
    try:
        with opened(target, timeout) as box:
            step = "searching"
            uids = box.unseen()
            summary.counts["unseen"] = len(uids)
            uids = uids[:limit]
            for start in range(0, len(uids), batch_size):
                step = "fetching"
                for uid, raw in box.fetch(uids[start : start + batch_size]):
                    label = f"message UID {uid.decode()}"
                    result = run_batch(
                        session, summary, label=label, lock=None, work=lambda raw=raw: store(raw)
                    )
                    if result is None:
                        continue  # not stored (rolled back, in the failures): read next run
                    _count(summary, result, label)
                    step = f"flagging {label}"
                    box.mark_seen(uid)
                    step = "fetching"
    except IMAP_ERRORS as exc:
        summary.failures.append(
            f"IMAP {target.where()}: {step} failed ({type(exc).__name__}: {_brief(exc)}); "
            "messages not stored stay unseen on the server for the next run"
        )
    return summary


def _count(summary: MailSummary, result: Ingested | str, label: str) -> None:
    if isinstance(result, str):
        summary.counts[UNREADABLE] += 1
        summary.failures.append(f"{label}: {result}")
    elif result.duplicate:
        summary.counts["duplicate"] += 1
    else:
        summary.counts["stored"] += 1
        summary.counts[result.kind] += 1
        summary.counts[result.state] += 1


def _brief(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or "no detail"
