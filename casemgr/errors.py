"""Domain errors: what a service raises when it refuses; one handler maps them
to HTTP (:mod:`casemgr.http`), CLI commands to exit codes.

This module imports nothing of a feature.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping


class WorkflowError(Exception):
    """Base of the errors an action can be refused with."""


class InvalidTransition(WorkflowError):
    """The action is unknown, or not possible in the case's state; names the
    actions that are (the state machine in :mod:`casemgr.cases.workflow`
    raises it)."""

    def __init__(self, action: str, status: str, allowed_actions: list[str], *, known: bool):
        self.action = action
        self.status = status
        self.allowed_actions = allowed_actions
        allowed = ", ".join(allowed_actions) or "none"
        if known:
            reason = f"'{action}' is not possible while the case is '{status}'"
        else:
            reason = f"'{action}' is not an action"
        super().__init__(f"{reason}; actions allowed now: {allowed}")


class PermissionDenied(WorkflowError):
    pass


class ValidationFailed(WorkflowError):
    """Bad input, keyed by the name of each field at fault."""

    def __init__(self, fields: Mapping[str, list[str]]):
        self.fields = {name: list(messages) for name, messages in fields.items()}
        summary = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in self.fields.items())
        super().__init__(summary)


class NotFound(Exception):
    pass


class Conflict(Exception):
    """The request is valid but clashes with the current state of the data."""


class StaleVersion(Conflict):
    """The case changed since the version the caller saw.

    ``current_version`` is None when the change was detected at the moment of
    writing (another transaction updated the row first: SQLAlchemy's
    StaleDataError). The session must then be rolled back before anything
    else can be read; ``describe``, given by the service that raised it, does
    that and returns the error naming the current version and who changed it
    (see :meth:`described`).
    """

    def __init__(
        self,
        current_version: int | None,
        changed_by: str | None,
        *,
        case_id: int | None = None,
        describe: Callable[[], StaleVersion] | None = None,
    ):
        self.current_version = current_version
        self.changed_by = changed_by
        self.case_id = case_id
        self._describe = describe
        who = f" by {changed_by}" if changed_by else " by someone else at the same moment"
        now = f" (now version {current_version})" if current_version is not None else ""
        super().__init__(
            f"the case was changed{who} since you loaded it{now}; reload it and try again"
        )

    def described(self) -> StaleVersion:
        """This error with the case's current version and who changed it, when
        the change was caught at the moment of writing (rolls the session back)."""
        if self.current_version is not None or self._describe is None:
            return self
        return self._describe()
