"""Forms of the directory screens. The service validates the values (with
messages naming the field); these only bound sizes and carry CSRF."""

from __future__ import annotations

from babel import Locale
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import Length

from casemgr.countries import country_choices
from casemgr.directory.inputs import LANGUAGES, MAX_ADDRESS_LENGTH, MAX_NOTES_LENGTH
from casemgr.domain import OrgKind
from casemgr.forms import select_choices

KIND_LABELS = {
    OrgKind.HOTLINE.value: "Partner hotline",
    OrgKind.POLICE.value: "Police",
    OrgKind.HOSTING_PROVIDER.value: "Hosting provider",
    OrgKind.REGISTRAR.value: "Registrar",
}


class OrganisationForm(FlaskForm):
    kind = SelectField("Kind", choices=select_choices(KIND_LABELS.items()), validate_choice=False)
    name = StringField("Name", validators=[Length(max=400)])
    country = SelectField(
        "Country",
        choices=select_choices(country_choices(), blank="— none (international) —"),
        validate_choice=False,
        description="Leave empty only for an organisation without a country, "
        "such as the international police channel.",
    )
    email = StringField(
        "Abuse or contact e-mail",
        validators=[Length(max=400)],
        render_kw={"type": "email"},
    )
    language = SelectField(
        "Preferred language",
        choices=select_choices(
            (code, f"{Locale.parse(code).get_display_name('en')} ({code})") for code in LANGUAGES
        ),
        validate_choice=False,
    )
    domains = TextAreaField(
        "Domains",
        validators=[Length(max=200_000)],
        description="Hosting providers and registrars: one per line (or separated by spaces "
        "or semicolons), e.g. example.com. Names under a domain match it too.",
        render_kw={"rows": 3},
    )
    networks = TextAreaField(
        "IP networks",
        validators=[Length(max=200_000)],
        description="Hosting providers: CIDR networks, one per line, e.g. 192.0.2.0/24 "
        "or 2001:db8::/32.",
        render_kw={"rows": 3},
    )
    address = TextAreaField(
        "Postal address", validators=[Length(max=MAX_ADDRESS_LENGTH)], render_kw={"rows": 2}
    )
    notes = TextAreaField("Notes", validators=[Length(max=MAX_NOTES_LENGTH)], render_kw={"rows": 2})


class ImportForm(FlaskForm):
    file = FileField("CSV file", validators=[FileRequired("Choose a CSV file.")])
    dry_run = BooleanField("Only check the file; save nothing")
