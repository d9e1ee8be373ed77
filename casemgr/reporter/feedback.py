"""The coarse statuses of /status, counted for the reporter's feedback e-mail."""

from __future__ import annotations

from collections import Counter

from flask import has_app_context
from flask_babel import force_locale, gettext
from sqlalchemy.orm import Session

from casemgr.reporter.queries import url_statuses
from casemgr.reporter.statuses import LABELS, ReporterStatus


def status_counts(session: Session, submission_id: int, language: str) -> list[tuple[str, int]]:
    """(label in ``language``, number of addresses) per coarse status, in the
    order of the statuses; the URLs themselves never go into an e-mail."""
    counts = Counter(item.status for item in url_statuses(session, submission_id))
    if not has_app_context():
        return [(LABELS[s], counts[s]) for s in ReporterStatus if counts[s]]
    with force_locale(language):
        return [(gettext(LABELS[s]), counts[s]) for s in ReporterStatus if counts[s]]
