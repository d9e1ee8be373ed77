"""The translations a request reads through casemgr.i18n's memo: the same
words Flask-Babel gives, in the language in force, with ``force_locale``
(letters and mail in another language) switching them and switching back."""

from __future__ import annotations

from flask import render_template_string
from flask_babel import force_locale, gettext, ngettext
from markupsafe import Markup

from casemgr import countries, i18n
from casemgr.cases.labels import label

PAGE = (
    "{{ _('Queue') }}|{{ ngettext('%(num)s case', '%(num)s cases', 3) }}"
    "|{{ 'new'|label('status') }}"
)


def _words(language: str) -> str:
    with force_locale(language):
        return "|".join(
            (
                gettext("Queue"),
                ngettext("%(num)s case", "%(num)s cases", 3),
                str(label("new", "status")),
            )
        )


def test_templates_and_labels_follow_the_language_in_force(app):
    with app.test_request_context("/"):
        english, khmer = _words("en"), _words("km")
        assert english == "Queue|3 cases|New" and khmer != english
        assert render_template_string(PAGE) == english
        with force_locale("km"):
            assert render_template_string(PAGE) == khmer
            assert label("new", "status") == khmer.split("|")[2]
        assert render_template_string(PAGE) == english  # and back
        assert label("new", "status") == "New"


def test_a_label_is_looked_up_once_per_request_and_language(app, monkeypatch):
    calls = []
    with app.test_request_context("/"):
        i18n.remembered(("test", 1), lambda: calls.append(1) or "first")
        assert i18n.remembered(("test", 1), lambda: "second") == "first"
        with force_locale("km"):
            assert i18n.remembered(("test", 1), lambda: "in Khmer") == "in Khmer"
    with app.test_request_context("/"):
        assert i18n.remembered(("test", 1), lambda: "next request") == "next request"
    assert calls == [1]


def test_outside_a_request_the_app_contexts_language_is_used(app):
    assert i18n.remembered(("test", 2), lambda: "made") == "made"
    assert i18n.translations().gettext("Queue") == "Queue"
    with force_locale("km"):
        assert i18n.translations().gettext("Queue") == _words("km").split("|")[0]


def test_with_no_context_at_all_flask_babel_answers():
    assert i18n.remembered(("test", 3), lambda: "made") == "made"
    assert i18n.translations().gettext("Queue") == "Queue"


def test_country_options_mark_the_chosen_one_and_escape_names():
    options = countries.country_options("KH")
    assert isinstance(options, Markup)
    assert options.count("<option ") == len(countries.ISO_COUNTRY_CODES)
    assert '<option value="KH" selected>Cambodia (KH)</option>' in options
    assert options.count(" selected") == 1
    assert '<option value="FR">France (FR)</option>' in options
    assert "selected" not in countries.country_options(None)
    # From the query string, anything: not a country, nothing chosen, nothing echoed.
    typed = countries.country_options('"><script>alert(1)</script>')
    assert typed == countries.country_options(None) and "<script>" not in typed
    assert "&amp;" in options and " & " not in options  # "Bosnia & Herzegovina"
    khmer = countries.country_options("KH", "km")
    assert khmer != options and 'value="KH" selected' in khmer
