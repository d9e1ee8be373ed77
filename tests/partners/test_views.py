"""What staff see of a partner link: the case page's box, the queue's two views, the API data."""

from __future__ import annotations

from datetime import timedelta

import jsonschema
from sqlalchemy import select

from casemgr import context
from casemgr.cases import queries
from casemgr.cases.models import Case
from casemgr.extensions import db
from casemgr.jobs import partners as job
from casemgr.partners.api import PARTNER_LINK_SCHEMA, partner_link_for_cases
from casemgr.partners.models import PartnerLink
from casemgr.partners.queries import link_for_case
from tests.conftest import login
from tests.partners.conftest import forwarded_case, partner_org


def run(app, now):
    job.run(db.session, now, app)
    db.session.commit()
    db.session.expire_all()


def queue_ids(view: str, now) -> set[int]:
    filters = queries.QueueFilter(view=view)
    conditions = queries.queue_conditions(filters, user_id=0, now=now)
    return set(db.session.scalars(select(Case.id).where(*conditions)))


def test_the_case_page_shows_the_partners_reference_and_status(app, client, partner, analyst):
    org = partner_org(partner.url, name="Hotline B")
    case = forwarded_case(org.id)
    login(client, analyst)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "At the partner hotline" in page and "queued" in page
    run(app, context.now())
    partner.set_status(case.reference, "notice_sent")
    run(app, context.now() + timedelta(hours=1))
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    remote = partner.case_of(case.reference)["reference"]
    assert remote in page and "Hotline B" in page and "learned" in page
    other = forwarded_case(partner_org(partner.url, forward_by="letter").id)
    assert "At the partner hotline" not in client.get(f"/cases/{other.id}").get_data(as_text=True)


def test_the_queue_views_partner_removed_and_partner_silent(app, partner):
    org = partner_org(partner.url)
    quiet, removed = forwarded_case(org.id), forwarded_case(org.id)
    now = context.now()
    run(app, now)
    partner.set_status(removed.reference, "closed", "takedown_confirmed")
    run(app, now + timedelta(days=3))
    later = now + timedelta(days=8)
    assert queue_ids("partner_removed", later) == {removed.id}
    # the quiet one last changed at delivery, 8 days ago; the other 5 days ago
    assert queue_ids("partner_silent", later) == {quiet.id}
    assert queue_ids("partner_silent", now + timedelta(days=12)) == {quiet.id, removed.id}


def test_the_queue_offers_the_views(app, client, analyst):
    login(client, analyst)
    page = client.get("/cases/?view=partner_silent").get_data(as_text=True)
    assert "Partner silent for 7 days" in page and "Partner says removed" in page


def test_the_api_data_of_a_link_fits_its_schema(app, partner):
    org = partner_org(partner.url, name="Hotline B")
    case = forwarded_case(org.id)
    plain = forwarded_case(partner_org(partner.url, forward_by="letter").id)
    run(app, context.now())
    found = partner_link_for_cases(db.session, [case.id, plain.id])
    assert found[plain.id] is None
    data = found[case.id]
    jsonschema.validate(data, PARTNER_LINK_SCHEMA)
    jsonschema.validate(None, PARTNER_LINK_SCHEMA)
    assert data["partner"] == "Hotline B" and data["delivery"] == "delivered"
    assert data["reference"] == partner.case_of(case.reference)["reference"]
    assert link_for_case(db.session, case.id)["status"] == "new"
    assert db.session.scalar(select(PartnerLink.state)) == "delivered"
