"""Every model, imported in one place so the metadata is complete."""

from casemgr.alerts.models import Alert
from casemgr.audit import chain  # noqa: F401 - registers the audit log's commit hook
from casemgr.audit.models import AuditEntry
from casemgr.auth.models import ApiToken, LoginThrottle, RecoveryCode, User, UserSession
from casemgr.cases.models import Case, CaseEvent, CaseNote, ReferenceCounter, Submission
from casemgr.checks.models import UrlCheck
from casemgr.directory.models import Organisation, OrganisationDomain, OrganisationNetwork
from casemgr.inbound.models import InboundMail, InboundMailCase
from casemgr.jobs.models import JobRun
from casemgr.notices.models import Notice, NoticeCase
from casemgr.notifications.models import Notification
from casemgr.outbox.models import OutboxMessage
from casemgr.partners.models import PartnerLink
from casemgr.reporter.models import ReporterMessage, SubmissionReceipt
from casemgr.responses.models import ProviderResponse, ResponseLink
from casemgr.stats.models import MonthlyReport

__all__ = [
    "Alert",
    "ApiToken",
    "AuditEntry",
    "Case",
    "CaseEvent",
    "CaseNote",
    "InboundMail",
    "InboundMailCase",
    "JobRun",
    "LoginThrottle",
    "MonthlyReport",
    "Notice",
    "NoticeCase",
    "Notification",
    "Organisation",
    "OrganisationDomain",
    "OrganisationNetwork",
    "PartnerLink",
    "RecoveryCode",
    "OutboxMessage",
    "ProviderResponse",
    "ResponseLink",
    "ReferenceCounter",
    "ReporterMessage",
    "Submission",
    "SubmissionReceipt",
    "UrlCheck",
    "User",
    "UserSession",
]
