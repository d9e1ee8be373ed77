"""Every model, imported in one place so the metadata is complete."""

from casemgr.audit.models import AuditEntry
from casemgr.auth.models import ApiToken, User
from casemgr.cases.models import Case, CaseEvent, ReferenceCounter, Submission
from casemgr.directory.models import Organisation
from casemgr.notices.models import Alert, Notice, NoticeCase
from casemgr.notifications.models import Notification
from casemgr.outbox.models import OutboxMessage

__all__ = [
    "Alert",
    "ApiToken",
    "AuditEntry",
    "Case",
    "CaseEvent",
    "Notice",
    "NoticeCase",
    "Notification",
    "Organisation",
    "OutboxMessage",
    "ReferenceCounter",
    "Submission",
    "User",
]
