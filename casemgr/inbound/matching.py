"""Which letter a message answers, and so which cases it is about.

First by its headers: ``In-Reply-To`` / ``References`` naming the Message-ID
of a letter we sent (the outbox keeps it). Else by a reference in the
subject: a letter's (``CM-N-2026-000001``, every case of that letter) or a
case's (``CM-2026-000042``). A reference that names nothing matches nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from casemgr.cases.models import Case
from casemgr.inbound.models import BY_CASE_REFERENCE, BY_HEADER, BY_NOTICE_REFERENCE
from casemgr.notices.models import Notice, NoticeCase
from casemgr.outbox.models import OutboxMessage


@dataclass
class Match:
    how: str
    case_ids: list[int]
    notice_id: int | None = None
    # The case each letter covers: case id -> the letter it answered.
    notices: dict[int, int] = field(default_factory=dict)


def references(subject: str, prefix: str) -> tuple[list[str], list[str]]:
    """(letter references, case references) named in ``subject``, upper case, in order."""
    escaped = re.escape(prefix)
    letters = re.findall(rf"(?<![\w-]){escaped}-N-\d{{4}}-\d{{6}}(?!\d)", subject, re.IGNORECASE)
    cases = re.findall(rf"(?<![\w-]){escaped}-\d{{4}}-\d{{6}}(?!\d)", subject, re.IGNORECASE)
    return _unique(r.upper() for r in letters), _unique(r.upper() for r in cases)


def _unique(values) -> list[str]:
    return list(dict.fromkeys(values))


def letter_cases(session: Session, notice_id: int) -> list[int]:
    return sorted(
        session.scalars(select(NoticeCase.case_id).where(NoticeCase.notice_id == notice_id)).all()
    )


def outbox_rows(session: Session, message_ids: list[str]) -> list[OutboxMessage]:
    """Our messages among ``message_ids``, in the order given."""
    if not message_ids:
        return []
    rows = session.scalars(
        select(OutboxMessage).where(OutboxMessage.message_id.in_(message_ids))
    ).all()
    by_id = {row.message_id: row for row in rows}
    return [by_id[m] for m in message_ids if m in by_id]


def match(session: Session, answers: list[str], subject: str, *, prefix: str) -> Match | None:
    """The cases a message is about; None when it names none of ours."""
    for row in outbox_rows(session, answers):
        if row.notice_id is not None:
            cases = letter_cases(session, row.notice_id)
            if cases:
                return Match(BY_HEADER, cases, row.notice_id, dict.fromkeys(cases, row.notice_id))
    letters, case_refs = references(subject, prefix)
    if letters:
        found = session.execute(
            select(Notice.id, Notice.reference).where(Notice.reference.in_(letters))
        ).all()
        by_reference = {reference: notice_id for notice_id, reference in found}
        notices: dict[int, int] = {}
        for reference in letters:
            if reference in by_reference:
                for case_id in letter_cases(session, by_reference[reference]):
                    notices.setdefault(case_id, by_reference[reference])
        if notices:
            first = by_reference[next(r for r in letters if r in by_reference)]
            return Match(BY_NOTICE_REFERENCE, sorted(notices), first, notices)
    if case_refs:
        ids = sorted(session.scalars(select(Case.id).where(Case.reference.in_(case_refs))).all())
        if ids:
            return Match(BY_CASE_REFERENCE, ids)
    return None
