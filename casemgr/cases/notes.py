"""Case notes: what staff write down on a case (a phone call, a police reference).

A note is plain text, shown in the case's history beside its events. Notes
are never edited or deleted: a correction is a new note that says so, so
there is no function here to change one (and the model refuses it). Adding a
note is not a workflow action: it neither changes the case's state nor its
version, so a note never makes a colleague's action on the case stale.

Like every service, :func:`add_note` takes the session, the actor and ``now``,
flushes and never commits.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from casemgr.audit.services import record
from casemgr.cases.models import Case, CaseEvent, CaseNote
from casemgr.domain import Actor, Role
from casemgr.errors import PermissionDenied, ValidationFailed

MAX_NOTE_LENGTH = 4000

# Line breaks and tabs are part of a note's layout; every other control
# character (Unicode's Cc: NUL, escape sequences, ...) is refused rather than
# stored, and so are unpaired surrogates (no database stores them).
_UNWANTED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def add_note(session: Session, case: Case, body: str, *, actor: Actor, now: datetime) -> CaseNote:
    """Add ``body`` as a note on ``case`` by ``actor``, and audit it.

    Line breaks are stored as ``\\n`` (a browser sends ``\\r\\n``) and the text
    is stripped of blank space at either end; the length is counted after that.

    Raises PermissionDenied when ``actor`` is not a member of staff (the
    system writes no notes) and ValidationFailed naming ``body`` when the
    text is empty, longer than :data:`MAX_NOTE_LENGTH` characters, or holds
    control characters other than line breaks and tabs.
    """
    if actor.id is None or not actor.has(Role.ANALYST):
        raise PermissionDenied("Only staff can add notes to a case.")
    text = clean_body(body)
    note = CaseNote(case=case, author_id=actor.id, body=text, created_at=now)
    session.add(note)
    session.flush()
    record(
        session,
        action="case.note",
        now=now,
        actor_id=actor.id,
        target_type="case",
        target_id=case.id,
        # Never the text: a note may hold a phone number or a name, and the
        # audit log can be neither redacted nor purged. Its hash proves later
        # that the note shown is the note written.
        details={
            "reference": case.reference,
            "note_id": note.id,
            "length": len(text),
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
        },
    )
    return note


def clean_body(body: object) -> str:
    """The note's text as it is stored; raises ValidationFailed naming ``body``."""
    if not isinstance(body, str):
        raise ValidationFailed({"body": ["The note must be text."]})
    # Checked before blank space is trimmed: a control character at either end
    # (some count as blank space) is refused like one inside.
    unwanted = _UNWANTED.search(_one_line_break(body)) is not None
    text = _one_line_break(body).strip()
    if not text and not unwanted:
        raise ValidationFailed({"body": ["Write the note: it is empty."]})
    problems = []
    if len(text) > MAX_NOTE_LENGTH:
        problems.append(
            f"A note is at most {MAX_NOTE_LENGTH:,} characters; this one has {len(text):,}."
        )
    if unwanted:
        problems.append(
            "The note holds control characters (such as NUL): only line breaks "
            "and tabs are allowed."
        )
    if problems:
        raise ValidationFailed({"body": problems})
    return text


def _one_line_break(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def printable(text: str) -> str:
    """``text`` without the characters a note may not hold: a refused note shown
    again for correcting (what is left is what would be accepted)."""
    return _UNWANTED.sub("", _one_line_break(text))


# --- reading


def notes_for_case(session: Session, case_id: int) -> list[CaseNote]:
    """A case's notes, oldest first, with their authors."""
    return list(
        session.scalars(
            select(CaseNote)
            .where(CaseNote.case_id == case_id)
            .options(selectinload(CaseNote.author))
            .order_by(CaseNote.id)
        )
    )


def notes_for_cases(session: Session, case_ids: Iterable[int]) -> dict[int, list[CaseNote]]:
    """The notes of many cases in two queries (notes, authors): case id -> notes,
    oldest first; a case without notes has an empty list."""
    wanted = sorted(set(case_ids))
    found: dict[int, list[CaseNote]] = {case_id: [] for case_id in wanted}
    if not wanted:
        return found
    notes = session.scalars(
        select(CaseNote)
        .where(CaseNote.case_id.in_(wanted))
        .options(selectinload(CaseNote.author))
        .order_by(CaseNote.id)
    )
    for note in notes:
        found[note.case_id].append(note)
    return found


# Load a case's notes with their authors: ``select(Case).options(WITH_NOTES)``.
WITH_NOTES = selectinload(Case.notes).selectinload(CaseNote.author)


@dataclass(frozen=True)
class HistoryEntry:
    kind: Literal["event", "note"]
    at: datetime
    item: CaseEvent | CaseNote


def history(events: Sequence[CaseEvent], notes: Sequence[CaseNote]) -> list[HistoryEntry]:
    """Events and notes in one timeline, newest first.

    At the same moment a note comes after the event it most likely speaks of
    (so above it, newest first); within each kind, the order of writing.
    """
    entries = [(e.created_at, 0, e.id, HistoryEntry("event", e.created_at, e)) for e in events]
    entries += [(n.created_at, 1, n.id, HistoryEntry("note", n.created_at, n)) for n in notes]
    entries.sort(key=lambda entry: entry[:3], reverse=True)
    return [entry[3] for entry in entries]
