"""Forms of the case screens. Action forms are built from the workflow table,
so a field added to an action there appears here without a second copy."""

from __future__ import annotations

from collections.abc import Sequence

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from casemgr.cases.fields import MAX_REASON_LENGTH, FieldSpec
from casemgr.cases.receiving import (
    MAX_CONTACT_LENGTH,
    MAX_DESCRIPTION_LENGTH,
    MAX_EXTERNAL_REFERENCE_LENGTH,
)
from casemgr.cases.workflow import ActionRule
from casemgr.countries import country_choices
from casemgr.forms import LocalDateTimeField, select_choices

MANUAL_SOURCES = [
    ("phone", "Phone call"),
    ("email", "E-mail"),
    ("partner", "Partner hotline"),
    ("police", "Police"),
    ("staff", "Found by staff"),
]


class ManualReportForm(FlaskForm):
    urls = TextAreaField(
        "URLs",
        validators=[DataRequired(), Length(max=120_000)],
        description="One address per line, up to 50.",
    )
    source = SelectField("Received by", choices=select_choices(MANUAL_SOURCES))
    external_reference = StringField(
        "Their reference", validators=[Optional(), Length(max=MAX_EXTERNAL_REFERENCE_LENGTH)]
    )
    description = TextAreaField(
        "Notes",
        validators=[Optional(), Length(max=MAX_DESCRIPTION_LENGTH)],
        description="Where and how it was found. Never describe the material itself.",
    )
    reporter_contact = StringField(
        "Reporter's contact",
        validators=[Optional(), Length(max=MAX_CONTACT_LENGTH)],
        description="Optional; stored encrypted.",
    )
    feedback_requested = BooleanField("The reporter wants feedback")


def _field_for(spec: FieldSpec, options: dict[str, Sequence[tuple[str, str]]]) -> Field:
    label = spec.label or spec.name
    if spec.kind == "choice":
        return SelectField(
            label,
            choices=select_choices(((c, c.replace("_", " ")) for c in spec.choices), blank="—"),
            validate_choice=False,  # the workflow validates, with its own messages
        )
    if spec.kind == "country":
        return SelectField(
            label, choices=select_choices(country_choices(), blank="—"), validate_choice=False
        )
    if spec.kind == "bool":
        return BooleanField(label)
    if spec.kind == "text":
        return TextAreaField(label, validators=[Length(max=MAX_REASON_LENGTH)])
    if spec.kind == "datetime":
        # Typed on the hotline's wall clock; the workflow gets it in UTC.
        return LocalDateTimeField(label, default_now=True)
    if spec.kind == "id" and spec.refers_to in options:
        return SelectField(
            label, choices=select_choices(options[spec.refers_to], blank="—"), validate_choice=False
        )
    return StringField(label, validators=[Length(max=2048)])


def build_action_form(
    rule: ActionRule,
    options: dict[str, Sequence[tuple[str, str]]],
    *,
    formdata=None,
) -> FlaskForm:
    """A form for ``rule``'s fields; ``options`` gives select choices by reference target."""
    attributes: dict[str, Field] = {"version": HiddenField()}
    for spec in rule.fields:
        attributes[spec.name] = _field_for(spec, options)
    form_class = type(f"{rule.action.title().replace('_', '')}Form", (FlaskForm,), attributes)
    form = form_class(formdata=formdata, prefix=rule.action.value)
    form.rule = rule
    return form


def action_values(form: FlaskForm) -> dict[str, object]:
    """The values of an action form, keyed as the workflow names them (a time
    typed on the hotline's wall clock is already UTC)."""
    return {spec.name: form[spec.name].data for spec in form.rule.fields}
