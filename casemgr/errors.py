"""Domain errors that are not about the workflow; views map them to HTTP."""

from __future__ import annotations

from casemgr.cases.workflow import (  # noqa: F401 - re-exported for one import site
    InvalidTransition,
    PermissionDenied,
    ValidationFailed,
    WorkflowError,
)


class NotFound(Exception):
    pass


class Conflict(Exception):
    """The request is valid but clashes with the current state of the data."""


class StaleVersion(Conflict):
    """The case changed since the version the caller saw.

    ``current_version`` is None when the change was detected at the moment of
    writing (another transaction updated the row first: SQLAlchemy's
    StaleDataError); the session must then be rolled back before anything
    else, and :func:`casemgr.cases.services.stale_version` tells who.
    """

    def __init__(
        self, current_version: int | None, changed_by: str | None, *, case_id: int | None = None
    ):
        self.current_version = current_version
        self.changed_by = changed_by
        self.case_id = case_id
        who = f" by {changed_by}" if changed_by else " by someone else at the same moment"
        now = f" (now version {current_version})" if current_version is not None else ""
        super().__init__(
            f"the case was changed{who} since you loaded it{now}; reload it and try again"
        )
