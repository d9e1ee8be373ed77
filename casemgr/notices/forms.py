"""Forms of the letters screens."""

from __future__ import annotations

from collections.abc import Iterable

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.validators import DataRequired, ValidationError

from casemgr import context
from casemgr.forms import select_choices
from casemgr.localtime import zone_name
from casemgr.notices.export import EXPORT_FORMATS
from casemgr.notices.models import KINDS

FORMAT_LABELS = {"pdf": "One merged PDF", "zip": "Zip of the separate PDFs"}


class ExportForm(FlaskForm):
    # Days on the hotline's calendar (HOTLINE_TIMEZONE); the labels name the zone.
    first = DateField("From", validators=[DataRequired()])
    last = DateField("To", validators=[DataRequired()])
    kind = SelectField(
        "Kind", choices=select_choices(((k, k) for k in KINDS), blank="Every kind"), default=""
    )
    recipient = SelectField("Recipient", default="")
    format = SelectField(
        "Format",
        choices=select_choices((f, FORMAT_LABELS[f]) for f in EXPORT_FORMATS),
        default="pdf",
    )

    def __init__(self, recipients: Iterable[tuple[str, str]], **kwargs) -> None:
        super().__init__(**kwargs)
        self.recipient.choices = select_choices(recipients, blank="Every recipient")
        zone = zone_name(context.timezone())
        self.first.label.text = f"From (day in {zone})"
        self.last.label.text = f"To (day in {zone}, included)"

    def validate_last(self, field: DateField) -> None:
        if self.first.data and field.data and field.data < self.first.data:
            raise ValidationError("must not be before the start of the period")
