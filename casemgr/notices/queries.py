"""Reading letters: lists, filters, the letters of a case, and their JSON form.

Its own module because these only read (for the letters page, the case page
and the API) while the other modules of the package make and change letters.
:func:`notice_as_dict` is the one place a letter is serialised. A single
letter is fetched with ``casemgr.database.get_or_raise(session, Notice, id,
what="letter")``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, selectinload

from casemgr.cases.models import Case
from casemgr.notices.models import Notice, NoticeCase


def iso(value: datetime | None) -> str | None:
    """``value`` in ISO 8601, or None: how letters' moments are written out."""
    return value.isoformat() if value is not None else None


def letters_for_case(session: Session, case_id: int) -> list[Notice]:
    """The letters that cover a case, newest first (without their PDF)."""
    return list(
        session.scalars(
            select(Notice)
            .join(NoticeCase, NoticeCase.notice_id == Notice.id)
            .where(NoticeCase.case_id == case_id)
            .order_by(Notice.created_at.desc(), Notice.id.desc())
        ).all()
    )


def notice_as_dict(notice: Notice, *, with_cases: bool = True) -> dict[str, Any]:
    """A letter as the API shows it: THE one place letters are serialised.

    ``with_cases`` lists the cases covered (``notice.links`` with their case
    loaded); leave it out where the letters of one case are listed.
    """
    data: dict[str, Any] = {
        "id": notice.id,
        "reference": notice.reference,
        "kind": notice.kind,
        "recipient": {
            "id": notice.recipient_id,
            "kind": notice.recipient_kind,
            "name": notice.recipient_name,
            "email": notice.recipient_email,
            "address": notice.recipient_address,
        },
        "language": notice.language,
        "manual_delivery": notice.manual_delivery,
        "previous_reference": notice.previous_reference,
        "deadline": iso(notice.deadline),
        "case_count": notice.case_count,
        "sha256": notice.sha256,
        "size": notice.size,
        "created_at": iso(notice.created_at),
        "sent_at": iso(notice.sent_at),
        "exported_at": iso(notice.exported_at),
        "pdf_url": f"/api/v1/notices/{notice.id}/pdf",
    }
    if with_cases:
        data["cases"] = [
            {"id": link.case_id, "reference": link.case.reference} for link in notice.links
        ]
    return data


def notices_for_case(session: Session, case_id: int) -> list[dict[str, Any]]:
    """The letters about a case for the case's API representation, newest first."""
    return [notice_as_dict(n, with_cases=False) for n in letters_for_case(session, case_id)]


def notices_for_cases(session: Session, case_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """:func:`notices_for_case` of each of ``case_ids``, in one query (the answer of a
    bulk action shows hundreds of cases)."""
    found: dict[int, list[dict[str, Any]]] = {case_id: [] for case_id in case_ids}
    if not found:
        return found
    rows = session.execute(
        select(NoticeCase.case_id, Notice)
        .join(Notice, NoticeCase.notice_id == Notice.id)
        .where(NoticeCase.case_id.in_(list(found)))
        .order_by(Notice.created_at.desc(), Notice.id.desc())
    )
    for case_id, notice in rows:
        found[case_id].append(notice_as_dict(notice, with_cases=False))
    return found


@dataclass(frozen=True)
class NoticeFilter:
    case_id: int | None = None
    kind: str | None = None
    recipient_id: int | None = None
    start: datetime | None = None  # created at or after
    end: datetime | None = None  # created before

    def conditions(self) -> list[ColumnElement]:
        conditions: list[ColumnElement] = []
        if self.case_id is not None:
            conditions.append(
                Notice.id.in_(
                    select(NoticeCase.notice_id).where(NoticeCase.case_id == self.case_id)
                )
            )
        if self.kind is not None:
            conditions.append(Notice.kind == self.kind)
        if self.recipient_id is not None:
            conditions.append(Notice.recipient_id == self.recipient_id)
        if self.start is not None:
            conditions.append(Notice.created_at >= self.start)
        if self.end is not None:
            conditions.append(Notice.created_at < self.end)
        return conditions


@dataclass
class NoticePage:
    items: list[Notice]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def list_notices(
    session: Session, filters: NoticeFilter, *, page: int = 1, per_page: int = 50
) -> NoticePage:
    """A page of letters, newest first, with the cases they cover loaded."""
    conditions = filters.conditions()
    total = session.scalar(select(func.count(Notice.id)).where(*conditions)) or 0
    items = session.scalars(
        select(Notice)
        .where(*conditions)
        .options(
            selectinload(Notice.links)
            .selectinload(NoticeCase.case)
            .load_only(Case.id, Case.reference, raiseload=True)
        )
        .order_by(Notice.created_at.desc(), Notice.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return NoticePage(list(items), total, page, per_page)
