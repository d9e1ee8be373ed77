"""Every model, imported in one place so the metadata is complete."""

from casemgr.audit.models import AuditEntry
from casemgr.auth.models import ApiToken, User
from casemgr.cases.models import Case, CaseEvent, ReferenceCounter, Submission
from casemgr.directory.models import Organisation, OrganisationDomain, OrganisationNetwork

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Case",
    "CaseEvent",
    "Organisation",
    "OrganisationDomain",
    "OrganisationNetwork",
    "ReferenceCounter",
    "Submission",
    "User",
]
