"""Forms of the letters screens."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField
from wtforms.validators import DataRequired, ValidationError

from casemgr import context
from casemgr.cases.labels import LETTER_KIND
from casemgr.forms import StaffForm, select_choices
from casemgr.localtime import zone_name
from casemgr.notices.export import EXPORT_FORMATS
from casemgr.notices.models import KINDS

FORMAT_LABELS = {"pdf": _l("One merged PDF"), "zip": _l("Zip of the separate PDFs")}


class ExportForm(StaffForm):
    # Days on the hotline's calendar (HOTLINE_TIMEZONE); the labels name the zone.
    first = DateField(_l("From"), validators=[DataRequired()])
    last = DateField(_l("To"), validators=[DataRequired()])
    kind = SelectField(
        _l("Kind"),
        choices=select_choices(((k, LETTER_KIND[k]) for k in KINDS), blank=_l("Every kind")),
        default="",
    )
    recipient = SelectField(_l("Recipient"), default="")
    format = SelectField(
        _l("Format"),
        choices=select_choices((f, FORMAT_LABELS[f]) for f in EXPORT_FORMATS),
        default="pdf",
    )

    def __init__(self, recipients: Iterable[tuple[str, str]], **kwargs) -> None:
        super().__init__(**kwargs)
        self.recipient.choices = select_choices(recipients, blank=_l("Every recipient"))
        zone = zone_name(context.timezone())
        self.first.label.text = gettext("From (day in %(zone)s)", zone=zone)
        self.last.label.text = gettext("To (day in %(zone)s, included)", zone=zone)

    def validate_last(self, field: DateField) -> None:
        if self.first.data and field.data and field.data < self.first.data:
            raise ValidationError(_l("must not be before the start of the period"))
