"""The report form's calls into the receipts: a code for a new submission."""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from casemgr.cases.models import Submission
from casemgr.reporter import codes, services


def new_receipt_code() -> services.NewCode:
    """A fresh code with its hash (one scrypt, at RECEIPT_SCRYPT's cost): make it
    before the report's transaction starts writing (see services.NewCode)."""
    params = codes.ScryptParams.from_config(current_app.config["RECEIPT_SCRYPT"])
    return services.new_receipt_code(params)


def issue_receipt(session, submission: Submission, code: services.NewCode, *, now: datetime) -> str:
    """The grouped ``code``, now ``submission``'s receipt."""
    return services.issue_receipt(session, submission, code, now=now)
