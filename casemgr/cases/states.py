"""The words of the case workflow: a case's states, how a closed case ended, the actions.

Only names here: which action leads from which state to which, and who may
take it, is :mod:`casemgr.cases.workflow`'s alone.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    NEW = "new"
    TRIAGE = "triage"
    ACTION_REQUIRED = "action_required"
    NOTICE_PENDING = "notice_pending"
    NOTICE_SENT = "notice_sent"
    FORWARDED = "forwarded"
    WITH_POLICE = "with_police"
    CLOSED = "closed"


OPEN_STATUSES: frozenset[Status] = frozenset(Status) - {Status.CLOSED}
# States in which the hotline waits for somebody else to remove the material.
AWAITING_REMOVAL: frozenset[Status] = frozenset(
    {Status.NOTICE_SENT, Status.FORWARDED, Status.WITH_POLICE}
)


class Resolution(StrEnum):
    TAKEDOWN_CONFIRMED = "takedown_confirmed"
    NOT_ILLEGAL = "not_illegal"
    OUT_OF_REMIT = "out_of_remit"
    DUPLICATE = "duplicate"
    CONTENT_UNAVAILABLE = "content_unavailable"


class RemovalSource(StrEnum):
    """Who said the material is gone, before an analyst verified it."""

    PROVIDER = "provider"  # the provider, through the letter's response page
    CHECK = "check"  # the removal check (HEAD requests), where a hotline turned it on
    PARTNER = "partner"  # the partner hotline a case was forwarded to, over the API


class Attention(StrEnum):
    """Why a case waits for an analyst to route it again."""

    NOT_HOSTED = "not_hosted"  # the provider says it does not host the URL
    CANNOT_REMOVE = "cannot_remove"  # the provider says it cannot remove it
    # The partner hotline closed its case without a takedown (not illegal there,
    # out of its remit): casemgr.partners records its resolution.
    PARTNER_CLOSED = "partner_closed"


class Action(StrEnum):
    ASSIGN = "assign"
    ASSESS = "assess"
    MARK_DUPLICATE = "mark_duplicate"
    CLOSE_UNAVAILABLE = "close_unavailable"
    REQUEST_NOTICE = "request_notice"
    FORWARD_TO_PARTNER = "forward_to_partner"
    REFER_TO_POLICE = "refer_to_police"
    RELEASE_HOLD = "release_hold"
    CONFIRM_TAKEDOWN = "confirm_takedown"
    REOPEN = "reopen"
    SEND_NOTICE = "send_notice"  # taken by the scheduled notice run only
    # What comes back from outside (casemgr.responses, the removal check), taken
    # by the system on a provider's word or a check's finding, never by staff.
    REPORT_REMOVAL = "report_removal"
    ACCEPT_REPORTED_REMOVAL = "accept_reported_removal"
    DECLINE_NOTICE = "decline_notice"
