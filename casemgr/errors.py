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
    def __init__(self, current_version: int, changed_by: str | None):
        self.current_version = current_version
        self.changed_by = changed_by
        who = f" by {changed_by}" if changed_by else ""
        super().__init__(
            f"the case was changed{who} since you loaded it (now version {current_version}); "
            "reload it and try again"
        )
