"""Every code people read has plain words, in English and in Khmer."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from casemgr.cases import labels
from casemgr.cases.fields import AgeGroup, Classification, MediaType, SiteType
from casemgr.cases.states import Action, Resolution, Status
from casemgr.cases.workflow import RULES
from casemgr.domain import OrgKind, Role


@pytest.mark.parametrize(
    ("kind", "codes"),
    [
        ("status", Status),
        ("resolution", Resolution),
        ("action", Action),
        ("classification", Classification),
        ("media_type", MediaType),
        ("site_type", SiteType),
        ("age_group", AgeGroup),
        ("role", Role),
        ("org_kind", OrgKind),
    ],
)
def test_every_code_has_a_label(kind, codes):
    assert {code.value for code in codes} <= set(labels.KINDS[kind])


def test_an_action_says_what_the_workflow_says(app):
    """One wording per action: the button (the workflow's label) and the history."""
    with app.test_request_context():
        for action, rule in RULES.items():
            assert labels.label(action, "action") == rule.label


def test_the_letters_alerts_and_notifications_have_their_kinds():
    from casemgr.notices.models import KINDS as LETTER_KINDS
    from casemgr.outbox.models import STATUSES

    assert set(LETTER_KINDS) == set(labels.LETTER_KIND)
    assert set(STATUSES) == set(labels.OUTBOX_STATUS)


def test_unknown_and_empty_codes(app):
    with app.test_request_context():
        assert labels.label("new_thing_from_later", "status") == "new thing from later"
        assert labels.label(None, "status") == labels.label("", "status") == ""


def test_labels_in_khmer(app):
    with app.test_request_context(), force_locale("km"):
        assert labels.label("notice_pending", "status") == "លិខិតជូនដំណឹងកំពុងរង់ចាំផ្ញើ"
        assert labels.label("assess", "action") == "វាយតម្លៃ"
        assert labels.choices("role")[0] == ("analyst", "អ្នកវិភាគ")
