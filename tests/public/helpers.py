"""Posting the public form the way a browser does: with the CSRF token of the page."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from casemgr.cases.models import Case, Submission
from casemgr.extensions import db

_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(client, path: str = "/report") -> str:
    """The token of the form at ``path`` ("" when CSRF is off)."""
    match = _TOKEN.search(client.get(path).get_data(as_text=True))
    return match.group(1) if match else ""


def post_report(client, path: str = "/report", headers=None, environ_base=None, **fields):
    data = {"csrf_token": csrf_token(client, path), **fields}
    return client.post(path, data=data, headers=headers or {}, environ_base=environ_base or {})


def counts() -> tuple[int, int]:
    """(submissions, cases) in the database."""
    return (
        db.session.scalar(select(func.count()).select_from(Submission)),
        db.session.scalar(select(func.count()).select_from(Case)),
    )


def text(response) -> str:
    return response.get_data(as_text=True)
