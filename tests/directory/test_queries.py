"""Reading the directory: lookups and the directory page's search."""

from __future__ import annotations

import pytest

from casemgr import context
from casemgr.directory import operations, queries
from casemgr.domain import SYSTEM_ACTOR
from casemgr.errors import NotFound
from casemgr.extensions import db
from tests.directory.test_operations import create


@pytest.mark.parametrize("organisation_id", [9999, 0, -1, 2**31, 10**20])
def test_an_unknown_id_is_not_found(app, organisation_id):
    with pytest.raises(NotFound, match=f"no organisation with id {organisation_id}"):
        queries.get_organisation(db.session, organisation_id)


def test_search_by_kind_country_name_domain_and_address(app):
    host = create(name="Example Hosting", domains="example.com", networks="192.0.2.0/24")
    police = create(kind="police", name="Channel", country=None, email="c@police.example.org")
    hotline = create(kind="hotline", name="Partner DE", country="DE")
    gone = create(name="Gone Host")
    operations.set_active(db.session, gone, False, now=context.now(), actor=SYSTEM_ACTOR)
    db.session.commit()

    def found(**filters):
        page = queries.search(db.session, queries.DirectoryFilter(**filters))
        return {organisation.id for organisation in page.items}

    assert found() == {host.id, police.id, hotline.id}
    assert found(status="all") == {host.id, police.id, hotline.id, gone.id}
    assert found(status="inactive") == {gone.id}
    assert found(kind="hotline") == {hotline.id}
    assert found(country="DE") == {hotline.id}
    assert found(country="none") == {police.id}
    assert found(q="hosting") == {host.id}
    assert found(q="POLICE.example") == {police.id}
    assert found(q="img.example.com") == {host.id}
    assert found(q="192.0.2.77") == {host.id}
    assert found(q="198.51.100.1") == set()
    assert found(q="100%_") == set()
