"""Signals that cross a feature's border (blinker, as Flask's own signals).

A feature that changes something sends; the features that act on it
connect their receivers in their ``subscribers.py`` (the outbox's and
notifications'), whose ``subscribe()`` :func:`casemgr.create_app` calls. The
sender never imports a subscriber: a case action does not know that e-mail
exists.

Receivers run synchronously, inside the sender's transaction and with its
session, so what they write (a queued e-mail, a notification) commits or
rolls back with the change that caused it. A receiver flushes, never
commits. Every signal is sent with the session as sender and keyword
arguments only.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

case_acted = _signals.signal(
    "case-acted",
    doc="""A workflow action was recorded on a case.

    Sent by ``casemgr.cases.services.apply_action`` after the event is
    flushed, with ``case``, ``event`` (the CaseEvent), ``actor`` and ``now``.
    """,
)

letter_stored = _signals.signal(
    "letter-stored",
    doc="""A letter (notice, referral, reminder, escalation) was stored, PDF and all.

    Sent by ``casemgr.notices.letters.store_letter`` with ``notice`` and ``now``.
    """,
)
