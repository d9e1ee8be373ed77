"""The e-mail outbox: letters and reporters' feedback queued, sent over SMTP, retried.

Where things are
----------------
- :mod:`~casemgr.outbox.queueing`: a letter's or a reporter's feedback's
  message queued, in the transaction that made it (via ``subscribers``);
- :mod:`~casemgr.outbox.settings`: what delivery takes from the configuration;
- :mod:`~casemgr.outbox.claims`: due messages claimed by one job process,
  the hand-over recorded, claims given back;
- :mod:`~casemgr.outbox.composing`: the e-mail of a claimed message, as bytes
  (with :mod:`~casemgr.outbox.message`, :mod:`~casemgr.outbox.wording`);
- :mod:`~casemgr.outbox.mailer`: the SMTP conversation;
- :mod:`~casemgr.outbox.delivery`: what an attempt came to (sent, retried
  later with a back-off, failed, held as unknown), the supervisors' alerts,
  and the claims whose process died;
- :mod:`~casemgr.outbox.staff_actions`: a supervisor's retry, confirmation
  or cancellation of a message that waits for one;
- :mod:`~casemgr.outbox.queries`: the lists and counts of the outbox pages.

Services take the session and ``now``; they flush but never commit. The
delivery job (``casemgr.jobs.outbox``) commits between the steps, because
what is committed *before* talking to the SMTP server is what makes the
guarantees below hold when a process dies half-way.

States of a message
-------------------
``queued`` -> (claimed) ``sending`` -> ``sent``; or back to ``queued`` with a
later ``next_attempt_at`` (a failure worth retrying), or ``failed`` (refused
for good, or out of attempts), or ``unknown`` (handed to the server, answer
lost). ``failed`` and ``unknown`` wait for a supervisor: retry (same
Message-ID), confirm it arrived (``unknown`` only), or deliver it by hand
instead (``cancelled``).

What is guaranteed, and what SMTP cannot guarantee
--------------------------------------------------
1. *Nothing is lost.* A message is queued in the transaction that made its
   letter (or closed its submission's last case); the job commits its
   claims before it sends, and a claim whose process died is found again
   when its lease expires.
2. *No two processes send one message.* Rows are claimed with one
   ``UPDATE ... WHERE status = 'queued' ... RETURNING``; on PostgreSQL the
   rows are picked ``FOR UPDATE SKIP LOCKED`` (two jobs take different rows
   and never wait on each other), on SQLite the single writer serialises
   the claims. Each claim carries a random token, and every later write
   about the attempt is conditional on it.
3. *Never twice automatically, when the server may already have it.* Just
   before the message is handed over (DATA), the job commits
   ``handed_over_at`` (and checks that its claim still holds). After that
   point only the server's answer tells whether it was accepted; when the
   answer is lost (the connection drops or times out after the end of the
   message, or the process dies) the outcome is *unknown*. With
   ``OUTBOX_UNKNOWN_OUTCOME = "hold"`` (the default) such a message is not
   sent again by the job: it is put before the supervisors (an alert and
   the outbox page), who retry it or confirm it arrived. A failure *before*
   the hand-over (no connection, refused, dropped earlier, a process that
   died before it) is retried freely: a server cannot have accepted a
   message it has not received whole.
4. *Every attempt is the same message.* The Message-ID (``make_msgid`` with
   ``MAIL_MESSAGE_ID_DOMAIN``) and the Date are fixed at the first claim
   and committed before the first byte goes out; a retry, automatic or by
   hand, sends the same Message-ID, so a receiving system that deduplicates
   by Message-ID (many do) shows one message even then.

SMTP has no way to ask a server afterwards whether it accepted a message, so
exactly-once delivery cannot be had: with ``hold`` a message whose answer
was lost may stay undelivered until a supervisor acts (the letter's
reminders go on regardless); with ``resend`` it may arrive twice, with the
same Message-ID.

The server's answer is committed together with the next message's
hand-over (one commit a message): a job process that dies between the two
leaves that one message ``sending`` and handed over, so it is held as
unknown although it was delivered. That costs a supervisor a click, never a
duplicate.
"""

from flask import Blueprint

bp = Blueprint("outbox", __name__, url_prefix="/outbox")
