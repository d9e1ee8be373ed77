"""Forms of the directory screens. The service validates the values (with
messages naming the field); these only bound sizes and carry CSRF."""

from __future__ import annotations

from babel import Locale
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import Length

from casemgr.cases.labels import ORG_KIND
from casemgr.countries import country_choices
from casemgr.directory.inputs import LANGUAGES, MAX_ADDRESS_LENGTH, MAX_NOTES_LENGTH
from casemgr.forms import StaffForm, select_choices
from casemgr.i18n import current_language

# The kinds of organisation in plain words (casemgr/cases/labels.py).
KIND_LABELS = ORG_KIND


def _language_choices() -> list:
    """A letter language, named in the staff member's language: "Khmer (km)"."""
    shown_in = current_language()
    return select_choices(
        (code, f"{Locale.parse(code).get_display_name(shown_in)} ({code})") for code in LANGUAGES
    )


class OrganisationForm(StaffForm):
    kind = SelectField(
        _l("Kind"), choices=select_choices(KIND_LABELS.items()), validate_choice=False
    )
    name = StringField(_l("Name"), validators=[Length(max=400)])
    country = SelectField(
        _l("Country"),
        validate_choice=False,
        description=_l(
            "Leave empty only for an organisation without a country, "
            "such as the international police channel."
        ),
    )
    email = StringField(
        _l("Abuse or contact e-mail"),
        validators=[Length(max=400)],
        render_kw={"type": "email"},
    )
    language = SelectField(_l("Preferred language"), validate_choice=False)
    domains = TextAreaField(
        _l("Domains"),
        validators=[Length(max=200_000)],
        description=_l(
            "Hosting providers and registrars: one per line (or separated by spaces "
            "or semicolons), e.g. example.com. Names under a domain match it too."
        ),
        render_kw={"rows": 3},
    )
    networks = TextAreaField(
        _l("IP networks"),
        validators=[Length(max=200_000)],
        description=_l(
            "Hosting providers: CIDR networks, one per line, e.g. 192.0.2.0/24 or 2001:db8::/32."
        ),
        render_kw={"rows": 3},
    )
    address = TextAreaField(
        _l("Postal address"), validators=[Length(max=MAX_ADDRESS_LENGTH)], render_kw={"rows": 2}
    )
    notes = TextAreaField(
        _l("Notes"), validators=[Length(max=MAX_NOTES_LENGTH)], render_kw={"rows": 2}
    )
    trust_removal_reports = BooleanField(
        _l("Trust its removal reports"),
        description=_l(
            "Hosting providers: when it answers “removed” on a letter's response page, "
            "the case closes on its word, without an analyst verifying the removal."
        ),
    )

    api_base_url = StringField(
        _l("API base URL"),
        validators=[Length(max=400)],
        description=_l(
            "Partner hotlines running casemgr: the address of their installation, "
            "e.g. https://hotline.example.org (docs/partners.md)."
        ),
    )
    forward_by = SelectField(
        _l("Forward cases by"),
        choices=select_choices(
            [
                ("letter", _l("referral letter")),
                ("api", _l("their API only")),
                ("both", _l("their API and a referral letter")),
            ]
        ),
        validate_choice=False,
    )
    api_token = PasswordField(
        _l("API token"),
        validators=[Length(max=600)],
        description=_l(
            "The token their administrator issued to our partner account. "
            "Stored encrypted; never shown again."
        ),
        render_kw={"autocomplete": "off"},
    )
    remove_api_token = BooleanField(_l("Remove the stored API token"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.language.choices = _language_choices()
        self.country.choices = select_choices(
            country_choices(current_language()), blank=str(_l("— none (international) —"))
        )


class ImportForm(StaffForm):
    file = FileField(_l("CSV file"), validators=[FileRequired(_l("Choose a CSV file."))])
    dry_run = BooleanField(_l("Only check the file; save nothing"))
