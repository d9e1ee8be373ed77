"""Receipt codes at the configured cost (RECEIPT_SCRYPT): the hash's parameters
for a code being checked, and a new code for the report form, which makes it
before its transaction writes (services.issue_receipt stores it)."""

from __future__ import annotations

from flask import current_app

from casemgr.reporter import codes, services


def scrypt_params() -> codes.ScryptParams:
    return codes.ScryptParams.from_config(current_app.config["RECEIPT_SCRYPT"])


def new_receipt_code() -> services.NewCode:
    """A fresh code with its hash (one scrypt): make it before the report's
    transaction starts writing (see services.NewCode)."""
    return services.new_receipt_code(scrypt_params())
