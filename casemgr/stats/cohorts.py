"""The two sets of cases the figures describe, as SQL: received in the period, notified in it.

Both :mod:`casemgr.stats.figures` and :mod:`casemgr.stats.analysts` select
from these cohorts; they live here so that neither imports the other for them
(see the figures module's docstring for what each cohort counts).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, false, not_, null, select, true, union_all

from casemgr.cases.models import Case
from casemgr.stats.selection import Period, StatsFilter


@dataclass(frozen=True)
class Branch:
    """Whether a row is in each cohort, as the SQL of one branch of
    :meth:`Cohorts.either` sees it: a constant where the branch's WHERE decides."""

    received: Any
    notified: Any
    notified_only: bool = False  # the branch of cases notified in the period alone

    def of_received(self, column: Any, label: str) -> Any:
        """``column`` (a figure of the received cohort), labelled; NULL in the
        branch of cases only notified in the period, which then reads nothing
        but the notice index's columns (notice_sent_at, received_at,
        removed_at: migration 0023) and is answered from that index alone."""
        return (null() if self.notified_only else column).label(label)


@dataclass(frozen=True)
class Cohorts:
    received: Any  # received in the period
    notified: Any  # notice sent in the period
    filters: list

    @classmethod
    def of(cls, period: Period, filters: StatsFilter) -> Cohorts:
        return cls(
            received=and_(Case.received_at >= period.start_at, Case.received_at < period.end_at),
            notified=and_(
                Case.notice_sent_at >= period.start_at, Case.notice_sent_at < period.end_at
            ),
            filters=filters.conditions(),
        )

    @property
    def received_only(self) -> list:
        return [self.received, *self.filters]

    def either(self, columns: Callable[[Branch], Sequence[Any]]) -> Any:
        """``columns(branch)`` for every case of either cohort, each case once:
        the received cohort, then the notified cases received before the period.

        Two branches rather than one OR: each can use its own index, so a pass
        reads the period's cases, not the whole table. And each branch knows
        part of the answer: every row of the first is received in the period,
        every row of the second notified in it and not received, so those tests
        are constants there (``and_`` drops a true one, and the database folds
        the rest away) rather than work for every row.
        """
        first = Branch(received=true(), notified=self.notified)
        second = Branch(received=false(), notified=true(), notified_only=True)
        return union_all(
            select(*columns(first)).where(*self.received_only),
            select(*columns(second)).where(self.notified, not_(self.received), *self.filters),
        ).subquery("either_cohort")
