"""The reporter's receipt, what they add with it, and the hotline's questions.

Plain functions taking the session and ``now``; they flush, never commit.
Nothing here logs a code, a message or anything of the client.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from casemgr.audit.services import record
from casemgr.cases import guards, receiving
from casemgr.cases.models import Case, Submission
from casemgr.crypto import ContactCipher
from casemgr.database import dialect_insert
from casemgr.domain import Actor
from casemgr.errors import PermissionDenied, ValidationFailed
from casemgr.reporter import codes
from casemgr.reporter.models import REPORTER, STAFF, ReporterMessage, SubmissionReceipt
from casemgr.settings import Timings

MAX_MESSAGE_LENGTH = 5000
_ATTEMPTS = 8  # fresh selectors tried before giving up (a clash is rare: 2^40 of them)


@dataclass(frozen=True)
class NewCode:
    """A receipt code not yet given, with its verifier's slow hash.

    Made before the report's transaction writes anything: the hash is most of
    a submission's CPU (40 ms), and a transaction that has reserved reference
    numbers holds their row lock (on SQLite, the database's write lock) until
    it commits, so hashing inside it made every other report wait.
    """

    selector: str
    verifier: str
    verifier_hash: str


def new_receipt_code(params: codes.ScryptParams) -> NewCode:
    """A fresh code and its hash (one scrypt); no database."""
    selector, verifier = codes.split(codes.new_code())
    return NewCode(selector, verifier, codes.hash_verifier(verifier, params))


def issue_receipt(session: Session, submission: Submission, code: NewCode, *, now: datetime) -> str:
    """Give ``submission`` the receipt ``code``; return it grouped, the only
    time it exists in clear. One statement unless the selector is taken (no
    look-up first, no savepoint)."""
    selector, verifier, verifier_hash = code.selector, code.verifier, code.verifier_hash
    insert = dialect_insert(session)
    for _ in range(_ATTEMPTS):
        stored = session.scalar(
            insert(SubmissionReceipt)
            .values(
                submission_id=submission.id,
                selector=selector,
                verifier_hash=verifier_hash,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["selector"])
            .returning(SubmissionReceipt.submission_id)
        )
        if stored is not None:
            return codes.grouped(selector + verifier)
        # The selector is taken: keep the verifier (its hash is paid), draw another.
        selector = codes.new_code()[: codes.SELECTOR_LENGTH]
    raise RuntimeError("no free receipt selector after several attempts")


def find_submission(
    session: Session, typed: str, *, params: codes.ScryptParams
) -> Submission | None:
    """The submission whose code is ``typed`` (as a person types it), or None.

    Raises CodeRefused when ``typed`` cannot be a code at all (too short, too
    long, characters no code has): that is said the same whatever codes exist.
    Otherwise exactly one scrypt hash is computed, found or not.
    """
    selector, verifier = codes.split(codes.normalise(typed))
    receipt = session.scalar(
        select(SubmissionReceipt).where(SubmissionReceipt.selector == selector)
    )
    stored = receipt.verifier_hash if receipt is not None else None
    if not codes.verify(stored, verifier, params) or receipt is None:
        return None
    return session.get(Submission, receipt.submission_id)


def has_receipt(session: Session, submission_id: int) -> bool:
    return session.get(SubmissionReceipt, submission_id) is not None


# --- what the reporter adds


@dataclass(frozen=True)
class Addition:
    added: list[str]  # URLs that became new cases
    already_reported: list[str]  # URLs this submission holds already
    message_added: bool


def add_to_report(
    session: Session,
    submission: Submission,
    *,
    urls: Sequence[str],
    message: str,
    now: datetime,
    timings: Timings,
    cipher: ContactCipher,
    reference_prefix: str,
    max_urls: int,
) -> Addition:
    """More URLs (normalised already: new cases of the submission, with the
    duplicate rule of a new report) and/or a message for the analysts.

    Raises ValidationFailed naming ``urls`` or ``message`` (nothing written)."""
    message = (message or "").strip()
    errors: dict[str, list[str]] = {}
    if len(urls) > max_urls:
        errors["urls"] = [f"at most {max_urls} URLs can be added at once"]
    if len(message) > MAX_MESSAGE_LENGTH:
        errors["message"] = [f"must be at most {MAX_MESSAGE_LENGTH} characters"]
    elif any(ord(ch) < 32 and ch not in "\r\n\t" for ch in message):
        errors["message"] = ["must not contain control characters"]
    if not urls and not message and not errors:
        errors["urls"] = ["give at least one URL or a message"]
    if errors:
        raise ValidationFailed(errors)
    held = set(
        session.scalars(
            select(Case.url).where(
                Case.submission_id == submission.id,
                Case.url_hash.in_({receiving.url_hash(url) for url in urls}),
            )
        )
    )
    new = [url for url in dict.fromkeys(urls) if url not in held]
    receiving.add_cases(
        session,
        submission,
        new,
        now=now,
        timings=timings,
        reference_prefix=reference_prefix,
        source=submission.source,
    )
    if message:
        _add_message(session, submission, REPORTER, message, cipher=cipher, now=now)
    session.flush()
    return Addition(new, [url for url in urls if url in held], bool(message))


def _add_message(
    session: Session,
    submission: Submission,
    sender: str,
    text: str,
    *,
    cipher: ContactCipher,
    now: datetime,
    author_id: int | None = None,
) -> ReporterMessage:
    message = ReporterMessage(
        submission_id=submission.id,
        sender=sender,
        body=cipher.encrypt(text),
        author_id=author_id,
        created_at=now,
    )
    session.add(message)
    return message


# --- the hotline's side


def question_refusal(case: Case, actor: Actor) -> str | None:
    """None when ``actor`` may ask the reporter of ``case`` a question: whoever
    may act on the case (its assignee or a supervisor)."""
    return guards.assignee_or_supervisor(case.facts, actor)


def ask_reporter(
    session: Session,
    case: Case,
    *,
    question: str,
    actor: Actor,
    cipher: ContactCipher,
    now: datetime,
) -> ReporterMessage:
    """Post a question on the submission of ``case``, for the reporter to read on
    /status; audited. Raises PermissionDenied, or ValidationFailed naming
    ``question`` (blank, too long, no receipt, the contact purged)."""
    if refusal := question_refusal(case, actor):
        raise PermissionDenied(refusal.replace("assess this case", "ask the reporter"))
    submission = case.submission
    question = (question or "").strip()
    problem = None
    if not question:
        problem = "is required"
    elif len(question) > MAX_MESSAGE_LENGTH:
        problem = f"must be at most {MAX_MESSAGE_LENGTH} characters"
    elif any(ord(ch) < 32 and ch not in "\r\n\t" for ch in question):
        problem = "must not contain control characters"
    elif submission.contact_purged_at is not None:
        problem = (
            "cannot be sent: the reporter's contact details and messages were deleted "
            f"on {submission.contact_purged_at:%Y-%m-%d} after the retention period"
        )
    elif not has_receipt(session, submission.id):
        problem = (
            "cannot be sent: this report was not made on the public form with a receipt "
            "code, so the reporter has no way to read it"
        )
    if problem:
        raise ValidationFailed({"question": [problem]})
    message = _add_message(
        session, submission, STAFF, question, cipher=cipher, now=now, author_id=actor.id
    )
    session.flush()
    record(
        session,
        action="reporter.question",
        now=now,
        actor_id=actor.id,
        target_type="submission",
        target_id=submission.id,
        details={"submission": submission.reference, "case": case.reference},
    )
    return message


@dataclass(frozen=True)
class ShownMessage:
    sender: str
    text: str
    created_at: datetime
    author: str | None  # staff's name: for staff screens only


def messages_of(
    session: Session, submission_id: int, *, cipher: ContactCipher
) -> list[ShownMessage]:
    """A submission's messages in clear, oldest first. Callers show them to the
    code's holder, or to staff through the audited reveal (:func:`reveal_messages`)."""
    rows = session.scalars(
        select(ReporterMessage)
        .where(ReporterMessage.submission_id == submission_id)
        .order_by(ReporterMessage.id)
    )
    return [
        ShownMessage(
            row.sender,
            cipher.decrypt(row.body),
            row.created_at,
            row.author.name if row.author else None,
        )
        for row in rows
    ]


def reveal_messages(
    session: Session,
    case: Case,
    *,
    reason: str,
    actor: Actor,
    cipher: ContactCipher,
    now: datetime,
) -> list[ShownMessage]:
    """The submission's messages for staff, after the contact reveal's checks
    (its caller checked the viewer and the reason); the viewing is audited."""
    shown = messages_of(session, case.submission_id, cipher=cipher)
    if shown:
        record(
            session,
            action="reporter.messages_view",
            now=now,
            actor_id=actor.id,
            target_type="submission",
            target_id=case.submission_id,
            details={
                "submission": case.submission.reference,
                "case": case.reference,
                "reason": reason.strip(),
            },
        )
        session.flush()
    return shown


def purge_messages(session: Session, submission_id: int) -> int:
    """Delete a submission's messages (with its contact details, retention)."""
    result = session.execute(
        delete(ReporterMessage).where(ReporterMessage.submission_id == submission_id)
    )
    return result.rowcount or 0
