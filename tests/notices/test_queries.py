"""Reading letters: the letters of a case, lists and filters, the JSON form
(casemgr/notices/queries.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from casemgr.extensions import db
from casemgr.notices import queries
from casemgr.notices.api import OPENAPI_SCHEMAS
from tests.conftest import NOW
from tests.jobs.conftest import run_notices, run_reminders

H = timedelta(hours=1)


@pytest.fixture
def sent(app, make, queue):
    alpha, beta = make.organisation(name="Alpha"), make.organisation(name="Beta")
    cases = [queue(alpha), queue(alpha), queue(beta)]
    run_notices(app, NOW)
    run_reminders(app, NOW + 72 * H)
    return cases


def test_notices_for_case_serialise_without_the_case_list(app, sent):
    items = queries.notices_for_case(db.session, sent[2].id)
    assert [i["reference"] for i in items] == ["CM-N-2026-000004", "CM-N-2026-000002"]
    assert set(items[0]) == set(OPENAPI_SCHEMAS["Notice"]["properties"])
    assert queries.notices_for_case(db.session, 10**6) == []


def test_letters_for_case_newest_first(app, sent):
    assert [n.reference for n in queries.letters_for_case(db.session, sent[0].id)] == [
        "CM-N-2026-000003",
        "CM-N-2026-000001",
    ]


def test_list_notices_pages_and_counts(app, sent):
    page = queries.list_notices(db.session, queries.NoticeFilter(kind="reminder"), per_page=1)
    assert (page.total, page.pages, len(page.items)) == (2, 2, 1)
    assert page.items[0].reference == "CM-N-2026-000004"
    empty = queries.list_notices(db.session, queries.NoticeFilter(recipient_id=10**6))
    assert (empty.total, empty.pages, empty.items) == (0, 1, [])
