"""What a partner hotline's account may read: the cases of its own submissions.

A partner account (role ``partner``) sees only what it sent: a submission is
its own when the account submitted it, and a case when the case belongs to
such a submission. Anything else, a case or submission that does not exist,
another partner's or one that staff entered, is :class:`NotFound` alike, so
that a partner learns nothing from the answer.

A case closed as the duplicate of another is shown as the case actually
worked (:func:`worked_case`): the partner sees its own case's id, reference
and URL with the status, resolution and stage times of the original.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from casemgr.auth.models import User
from casemgr.cases.models import Case, Submission
from casemgr.cases.states import Resolution
from casemgr.database import is_valid_id
from casemgr.errors import NotFound

# A case marked as the duplicate of a case that is itself a duplicate: follow
# the chain this far at most (it cannot loop through a live workflow, but a
# bound costs nothing).
MAX_DUPLICATE_HOPS = 5
MAX_REFERENCE_LENGTH = 32  # the column's length


def submission_for(session: Session, reference: str, user: User) -> Submission:
    """The submission of ``reference`` with its cases (and the cases they
    duplicate), if ``user`` may read it: staff any, a partner only its own."""
    found = None
    if 0 < len(reference) <= MAX_REFERENCE_LENGTH:
        statement = (
            select(Submission)
            .where(Submission.reference == reference)
            .options(selectinload(Submission.cases).selectinload(Case.duplicate_of))
        )
        if user.is_partner:
            statement = statement.where(Submission.submitted_by_id == user.id)
        found = session.scalar(statement)
    if found is None:
        raise NotFound("no submission with this reference")
    return found


def case_for_partner(session: Session, case_id: int, user: User) -> Case:
    """The case ``case_id`` if it belongs to a submission of the partner ``user``."""
    found = None
    if is_valid_id(case_id):
        found = session.scalar(
            select(Case)
            .join(Submission, Case.submission_id == Submission.id)
            .where(Case.id == case_id, Submission.submitted_by_id == user.id)
            .options(selectinload(Case.duplicate_of))
        )
    if found is None:
        raise NotFound("no case with this id")
    return found


def worked_case(case: Case) -> Case:
    """The case actually worked for ``case``: itself, or (closed as a duplicate)
    the case it duplicates, followed along a chain of duplicates."""
    current = case
    for _ in range(MAX_DUPLICATE_HOPS):
        if current.resolution != Resolution.DUPLICATE or current.duplicate_of is None:
            break
        current = current.duplicate_of
    return current
