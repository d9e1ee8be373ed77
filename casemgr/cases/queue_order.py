"""The orders of the queue: by received, due date, state or host, either way.

Each order is a list of columns (``Term``) ending in a unique one, so that it
is total: a page, the next page and a case's neighbours agree on where every
case stands. Whatever the column chosen, cases that tie on it come newest
first. A case's neighbours are read with "comes after this case" conditions
on those columns (keyset), one row each, through the order's index.

Nothing here knows the queue's filters: the functions take the WHERE
conditions that :mod:`casemgr.cases.queries` builds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, Select, false, literal, select, union_all
from sqlalchemy.orm import Session, selectinload

from casemgr.cases.models import Case
from casemgr.cases.states import Status

# The columns the queue sorts by.
SORT_KEYS = ("received", "due", "state", "host")


@dataclass(frozen=True)
class QueueSort:
    key: str = "received"  # one of SORT_KEYS (grouping.GROUP_SORT_KEYS for groups)
    descending: bool = True

    @property
    def arg(self) -> str:
        """As the queue's address writes it: ``-received``, ``due``."""
        return ("-" if self.descending else "") + self.key


NEWEST_FIRST = QueueSort("received", True)


# Views of cases with a deadline to meet: the nearest (or most overdue) first.
DUE_FIRST_VIEWS = frozenset({"overdue", "removal_reported"})


def default_sort(view: str) -> QueueSort:
    """The order a view opens in: deadlines first in DUE_FIRST_VIEWS, else newest first."""
    return QueueSort("due", False) if view in DUE_FIRST_VIEWS else NEWEST_FIRST


@dataclass(frozen=True)
class Term:
    """One column of an order. NULLs come last, whichever the direction."""

    expression: Any
    descending: bool
    value_of: Callable[[Case], Any]
    nullable: bool = False

    def ordering(self, *, backwards: bool = False) -> Any:
        descending = self.descending != backwards
        ordered = self.expression.desc() if descending else self.expression.asc()
        if self.nullable:
            ordered = ordered.nulls_first() if backwards else ordered.nulls_last()
        return ordered

    def beyond(
        self, value: Any, *, backwards: bool = False
    ) -> list[tuple[ColumnElement[bool], bool]]:
        """The rows past ``value`` on this column (after it, or before it when
        ``backwards``), as conditions that each read one range of an index;
        with each, whether it leaves the column a single value (NULL)."""
        if value is None:  # NULLs are last: nothing comes after them, every value before
            return [(self.expression.is_not(None), False)] if backwards else []
        descending = self.descending != backwards
        past = self.expression < value if descending else self.expression > value
        if self.nullable and not backwards:
            return [(past, False), (self.expression.is_(None), True)]
        return [(past, False)]

    def equal(self, value: Any) -> ColumnElement[bool]:
        return self.expression.is_(None) if value is None else self.expression == value


NEWEST = (
    Term(Case.received_at, True, lambda case: case.received_at),
    Term(Case.id, True, lambda case: case.id),
)


def terms(sort: QueueSort) -> list[Term]:
    """The columns of ``sort``'s order (the order by state is read by :func:`by_state`)."""
    if sort.key == "received":
        return [
            Term(Case.received_at, sort.descending, lambda case: case.received_at),
            Term(Case.id, sort.descending, lambda case: case.id),
        ]
    if sort.key == "due":
        due = Term(Case.due_at, sort.descending, lambda case: case.due_at, nullable=True)
        return [due, *NEWEST]
    if sort.key == "host":
        return [Term(Case.host, sort.descending, lambda case: case.host), *NEWEST]
    raise ValueError(f"no order of cases by {sort.key!r}")


def ordered_page(
    conditions: Sequence[ColumnElement[bool]],
    sort: QueueSort,
    states: Sequence[Status],
    *,
    limit: int,
    offset: int,
) -> Select[Any]:
    """The SELECT of one page of cases, with what the queue shows of each loaded.

    ``states``: the states the conditions allow, for the order by state.
    """
    if sort.key == "state":
        return by_state(conditions, sort, states, limit=limit, offset=offset)
    return (
        select(Case)
        .where(*conditions)
        .options(selectinload(Case.assignee))
        .order_by(*(term.ordering() for term in terms(sort)))
        .limit(limit)
        .offset(offset)
    )


def next_id(
    session: Session,
    conditions: Sequence[ColumnElement[bool]],
    columns: Sequence[Term],
    case: Case,
    *,
    backwards: bool,
) -> int | None:
    """The id of the case right after ``case`` (before it, ``backwards``), or None.

    "After" is an OR: a later value of the first column, or the same value
    and a later one of the second, and so on. Asked as one condition, the
    database scans the order's index from its start, past every case before
    this one. Each alternative is a range of the index instead: the first
    row of each, and the first of those.
    """
    branches = []
    for position, term in enumerate(columns):
        ties = [earlier.equal(earlier.value_of(case)) for earlier in columns[:position]]
        for beyond, single in term.beyond(term.value_of(case), backwards=backwards):
            # Ordered by the columns that still vary in the range: the index
            # that serves it is then the one of those columns.
            varying = columns[position + 1 :] if single else columns[position:]
            branches.append(([*ties, beyond], varying))
    if not branches:
        return None
    keys = [term.expression.label(f"k{i}") for i, term in enumerate(columns)]
    pieces = [
        select(
            select(*keys)
            .where(*conditions, *branch)
            .order_by(*(term.ordering(backwards=backwards) for term in varying))
            .limit(1)
            .subquery()
        )
        for branch, varying in branches
    ]
    firsts = union_all(*pieces).subquery("firsts")
    outer = [
        replace(term, expression=firsts.c[f"k{i}"]).ordering(backwards=backwards)
        for i, term in enumerate(columns)
    ]
    return session.scalar(select(firsts.c[f"k{len(columns) - 1}"]).order_by(*outer).limit(1))


# --- by state
#
# Sorted by state, cases go in the order of the workflow (new first, closed
# last), newest first within a state. No index holds that order, and sorting
# every open case for each page cost PostgreSQL 0.2 s at a million cases. So
# each state is read on its own through (status, received_at, id), as far as
# the page reaches, and the pieces are put together: about 1 ms.

WORKFLOW_ORDER = tuple(Status)


def states_in_order(states: Sequence[Status], sort: QueueSort) -> list[Status]:
    ordered = [state for state in WORKFLOW_ORDER if state in states]
    return ordered[::-1] if sort.descending else ordered


def by_state(
    conditions: Sequence[ColumnElement[bool]],
    sort: QueueSort,
    states: Sequence[Status],
    *,
    limit: int,
    offset: int,
) -> Select[Any]:
    ordered = states_in_order(states, sort)
    if not ordered:
        return select(Case).where(false())
    # The pieces read (status, received_at, id) alone; the page's 50 cases are
    # read whole at the end.
    pieces = [
        select(
            select(literal(rank).label("state_rank"), Case.received_at, Case.id)
            .where(*conditions, Case.status == state)
            .order_by(Case.received_at.desc(), Case.id.desc())
            .limit(offset + limit)
            .subquery()
        )
        for rank, state in enumerate(ordered)
    ]
    together = union_all(*pieces).subquery("by_state")
    in_order = (together.c.state_rank, together.c.received_at.desc(), together.c.id.desc())
    page = select(together).order_by(*in_order).limit(limit).offset(offset).subquery("page")
    return (
        select(Case)
        .join(page, Case.id == page.c.id)
        .options(selectinload(Case.assignee))
        .order_by(page.c.state_rank, page.c.received_at.desc(), page.c.id.desc())
    )


def next_id_by_state(
    session: Session,
    conditions: Sequence[ColumnElement[bool]],
    sort: QueueSort,
    states: Sequence[Status],
    case: Case,
    *,
    backwards: bool,
) -> int | None:
    """The neighbour of ``case`` in the order by state: the next one in its own
    state, else the first of the states further on (back, ``backwards``)."""
    everything = list(WORKFLOW_ORDER)[:: -1 if sort.descending != backwards else 1]
    if case.status not in everything:
        return None
    further = everything[everything.index(Status(case.status)) + 1 :]
    if case.status in states:
        found = next_id(
            session, [*conditions, Case.status == case.status], NEWEST, case, backwards=backwards
        )
        if found is not None:
            return found
    newest = [term.ordering(backwards=backwards) for term in NEWEST]
    for state in further:
        if state not in states:
            continue
        found = session.scalar(
            select(Case.id).where(*conditions, Case.status == state).order_by(*newest).limit(1)
        )
        if found is not None:
            return found
    return None
