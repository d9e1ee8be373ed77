"""Helpers shared by the forms of every feature."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from flask_babel import get_translations
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as wtforms_translations
from wtforms import Field
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import DateTimeLocalInput

from casemgr import context, localtime
from casemgr.domain import N_
from casemgr.errors import ValidationFailed

# WTForms' own messages that staff forms can show. WTForms ships no Khmer, so
# they are in casemgr's catalogue (listed here so that pybabel extracts them)
# and StaffForm looks them up there first (each plural form as its own entry).
WTFORMS_MESSAGES = (
    N_("This field is required."),
    N_("Invalid email address."),
    N_("Not a valid choice."),
    N_("Not a valid date value."),
    N_("Invalid Choice: could not coerce."),
    N_("Field must be equal to %(other_name)s."),
    N_("Invalid input."),
)
WTFORMS_PLURAL_MESSAGES = (
    (
        N_("Field cannot be longer than %(max)d character."),
        N_("Field cannot be longer than %(max)d characters."),
    ),
    (
        N_("Field must be at least %(min)d character long."),
        N_("Field must be at least %(min)d characters long."),
    ),
)


class _CatalogueFirst:
    """WTForms' translations: casemgr's catalogue, else WTForms' own."""

    def gettext(self, string: str) -> str:
        translated = get_translations().ugettext(string)
        return translated if translated != string else wtforms_translations.gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        # Each form is its own entry in the catalogue (N_ marks no plurals).
        string = singular if n == 1 else plural
        translated = get_translations().ugettext(string)
        if translated != string:
            return translated
        return wtforms_translations.ngettext(singular, plural, n)


class StaffForm(FlaskForm):
    """A staff screen's form: its built-in messages in the staff member's language."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            return _CatalogueFirst()


def select_choices(
    pairs: Iterable[tuple[str, str]], *, blank: str | None = None
) -> list[SelectChoice]:
    """WTForms choices from (value, label) pairs, optionally after a blank option."""
    options = [SelectChoice("", blank)] if blank is not None else []
    options.extend(SelectChoice(value, label) for value, label in pairs)
    return options


def attach_errors(form: FlaskForm, exc: ValidationFailed) -> None:
    """Show a service's field errors next to the form's fields; errors about a
    field the form does not have go on top of the form."""
    for name, messages in exc.fields.items():
        field = getattr(form, name, None)
        if field is None:
            form.form_errors.extend(messages)
        else:
            field.errors = list(field.errors) + messages


class LocalDateTimeField(Field):
    """A date and time typed on the hotline's wall clock (HOTLINE_TIMEZONE), the
    zone named in its label; ``data`` is an aware UTC datetime, or None when left
    blank. A time that a daylight-saving change skips or repeats is refused with
    a message that says so. ``default_now``: the field starts at the present time.
    """

    widget = DateTimeLocalInput()

    def __init__(self, label: str = "", validators=None, *, default_now: bool = False, **kwargs):
        if default_now:
            kwargs["default"] = context.now
        kwargs["render_kw"] = {"step": "60", **(kwargs.get("render_kw") or {})}
        zone = localtime.zone_name(context.timezone())
        super().__init__(f"{label} ({zone})" if label else zone, validators, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if isinstance(self.data, datetime):
            return localtime.input_value(self.data, context.timezone())
        return ""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = None
        if valuelist and valuelist[0].strip():
            self.data = localtime.parse_local(valuelist[0], context.timezone())
