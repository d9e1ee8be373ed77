"""The wording settings: per-language merging, fallbacks, and refusing bad settings."""

from __future__ import annotations

import pytest

from casemgr.notices.wording import NoticeSettings


def settings(app, **config):
    app.config.update(config)
    return NoticeSettings.from_app(app)


def test_english_defaults(app):
    wording = settings(app).wording_for("en")
    assert "criminal offence" in wording.legal_basis
    assert "preserve all data" in wording.request
    assert wording.request_for("notice", "hosting_provider") == wording.request
    assert wording.request_for("reminder", "hosting_provider") == wording.request
    assert wording.request_for("reminder", "hotline") == wording.request_referral
    assert wording.request_for("referral", "police") == wording.request_referral
    assert wording.request_for("escalation", "police") == wording.request_escalation
    assert wording.request_for("escalation", "supervisors") == wording.request_supervisors


def test_a_language_falls_back_to_english_key_by_key(app):
    s = settings(app, NOTICE_WORDING={"km": {"legal_basis": "ខ្មែរ", "labels": {"to": "ជូន"}}})
    km = s.wording_for("km")
    assert km.language == "km"
    assert km.legal_basis == "ខ្មែរ"
    assert km.request == s.wording_for("en").request
    assert km.labels == {"to": "ជូន"}
    unknown = s.wording_for("xx")
    assert unknown.language == "en"
    assert s.wording_for(None).language == "en"


def test_english_may_be_reworded(app):
    s = settings(app, NOTICE_WORDING={"en": {"closing": "Kind regards,\n{hotline}"}})
    en = s.wording_for("en")
    assert en.closing == "Kind regards,\n{hotline}"
    assert s.fill(en.closing, reference="R") == "Kind regards,\nExample Hotline"
    assert "criminal offence" in en.legal_basis


def test_classification_basis_per_language(app):
    s = settings(
        app, CLASSIFICATION_BASIS={"fr": {"illegal_national": "Illicite (droit national)"}}
    )
    assert s.basis_for("illegal_national", "fr") == "Illicite (droit national)"
    assert s.basis_for("illegal_baseline", "fr") == (
        "Child sexual abuse material (international baseline)"
    )
    assert s.basis_for("illegal_national", "km") == "Child sexual abuse material (national law)"
    assert s.basis_for("something_new", "en") == "something new"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"NOTICE_WORDING": {"fr": {"legal_bases": "x"}}}, "unknown keys"),
        ({"NOTICE_WORDING": {"fr": {"request": 3}}}, "must be text"),
        ({"NOTICE_WORDING": {"fr": {"labels": {"greeting": "x"}}}}, "labels"),
        ({"NOTICE_WORDING": {"fr": {"titles": {"poem": "x"}}}}, "titles"),
        ({"NOTICE_WORDING": {"en": {"request": ""}}}, "must not blank out"),
        ({"NOTICE_WORDING": {"fr": "text"}}, "must be a mapping"),
        ({"NOTICE_WORDING": ["fr"]}, "must be a mapping"),
        ({"CLASSIFICATION_BASIS": {"fr": {"illegal_baseline": ""}}}, "must be text"),
    ],
)
def test_bad_settings_are_refused_with_their_name(app, config, message):
    with pytest.raises(ValueError, match=message):
        settings(app, **config)


def test_a_bad_setting_fails_the_run_visibly(app, runner, make, queue):
    app.config["NOTICE_WORDING"] = {"fr": {"legal_bases": "x"}}
    queue(make.organisation())
    result = runner.invoke(args=["jobs", "run", "notices"])
    assert result.exit_code == 1
    assert "unknown keys" in str(result.exception)
