"""The report form's one call into the receipts: a code for a new submission."""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from casemgr.cases.models import Submission
from casemgr.reporter import codes, services


def issue_receipt(session, submission: Submission, *, now: datetime) -> str:
    """The grouped code of ``submission``'s new receipt (one scrypt hash)."""
    params = codes.ScryptParams.from_config(current_app.config["RECEIPT_SCRYPT"])
    return services.issue_receipt(session, submission, params=params, now=now)
