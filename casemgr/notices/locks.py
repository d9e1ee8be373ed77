"""The locks that keep two runs of a letter job from writing the same letter.

Its own module because both the jobs (one advisory lock per batch, in
``casemgr.jobs.base``) and the letter services (the cases a letter covers,
locked row by row) take them, and because the guarantee they give is one
story, told here.

No letter twice: how it is guaranteed
-------------------------------------
A letter and the case changes it stands for are written in one transaction,
so a failure leaves neither. Two processes running the same job at the same
moment (two servers on PostgreSQL) are kept from writing the same letter by
three layers, each enough on its own for correctness, together also for
"one letter per recipient per run":

1. an advisory lock per (job, recipient), ``pg_try_advisory_xact_lock``
   (:func:`try_lock`), taken at the start of the recipient's transaction: a
   process that finds it taken skips that recipient (the holder is writing
   that very letter) and counts it as ``busy``; the lock goes with the
   transaction;
2. the cases are read again ``FOR UPDATE SKIP LOCKED`` (:func:`lock_cases`)
   with the conditions that made them due (status, recipient, due time). In
   READ COMMITTED, PostgreSQL re-checks those conditions on the newest
   version of a row it locks, so a case that another transaction has just
   served is not taken again, and a case a person is acting on right now is
   left for the next run;
3. the unique key (case_id, kind, step_at) of ``notice_cases``: the step is
   the moment of the case's life the letter answers (the notice request,
   the forwarding or referral, the due time of a reminder), computed the same
   by every process that sees the case in the same state. Should the two
   layers above ever be bypassed, the second letter's transaction fails on
   this key and rolls back whole, its cases untouched. (The ``version``
   column of cases, checked on every UPDATE, is a fourth: it is what guards
   SQLite, which has neither advisory nor row locks.)
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

from sqlalchemy import ColumnElement, select, text
from sqlalchemy.orm import Session

from casemgr.cases.models import Case


def _lock_space(job: str) -> int:
    """A stable 32-bit signed number naming the job's advisory locks."""
    value = zlib.crc32(f"casemgr.jobs.{job}".encode())
    return value - 2**32 if value >= 2**31 else value


def try_lock(session: Session, job: str, key: int) -> bool:
    """Take the advisory lock (job, key) for this transaction, if free.

    PostgreSQL only; elsewhere (SQLite, one writer at a time) always True.
    """
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(
        session.scalar(
            text("SELECT pg_try_advisory_xact_lock(:space, :key)"),
            {"space": _lock_space(job), "key": key},
        )
    )


def lock_cases(session: Session, ids: Iterable[int], *conditions: ColumnElement) -> list[Case]:
    """The cases of ``ids`` that still meet ``conditions``, locked for this transaction;
    those another transaction holds are skipped (they wait for the next run)."""
    ids = sorted(set(ids))
    if not ids:
        return []
    statement = (
        select(Case)
        .where(Case.id.in_(ids), *conditions)
        .order_by(Case.id)
        .with_for_update(skip_locked=True, of=Case)
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(statement).all())
