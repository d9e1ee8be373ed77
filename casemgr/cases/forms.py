"""Forms of the case screens. Action forms are built from the workflow table,
so a field added to an action there appears here without a second copy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from casemgr.cases.fields import MAX_REASON_LENGTH, FieldSpec, is_illegal
from casemgr.cases.labels import KINDS, label
from casemgr.cases.receiving import (
    MAX_CONTACT_LENGTH,
    MAX_DESCRIPTION_LENGTH,
    MAX_EXTERNAL_REFERENCE_LENGTH,
)
from casemgr.cases.services import MAX_CONTACT_REASON_LENGTH
from casemgr.cases.workflow import ActionRule
from casemgr.countries import country_choices
from casemgr.forms import LocalDateTimeField, StaffForm, select_choices

MANUAL_SOURCES = [
    ("phone", _l("Phone call")),
    ("email", _l("E-mail")),
    ("partner", _l("Partner hotline")),
    ("police", _l("Police")),
    ("staff", _l("Found by staff")),
]


class ManualReportForm(StaffForm):
    urls = TextAreaField(
        _l("URLs"),
        validators=[DataRequired(), Length(max=120_000)],
        description=_l("One address per line, up to 50."),
    )
    source = SelectField(_l("Received by"), choices=select_choices(MANUAL_SOURCES))
    external_reference = StringField(
        _l("Their reference"), validators=[Optional(), Length(max=MAX_EXTERNAL_REFERENCE_LENGTH)]
    )
    description = TextAreaField(
        _l("Notes"),
        validators=[Optional(), Length(max=MAX_DESCRIPTION_LENGTH)],
        description=_l("Where and how it was found. Never describe the material itself."),
    )
    reporter_contact = StringField(
        _l("Reporter's contact"),
        validators=[Optional(), Length(max=MAX_CONTACT_LENGTH)],
        description=_l("Optional; stored encrypted."),
    )
    feedback_requested = BooleanField(_l("The reporter wants feedback"))


class ContactRevealForm(StaffForm):
    """Why the reporter's contact is needed: required, kept in the audit log."""

    reason = StringField(
        _l("Reason for viewing"),
        validators=[DataRequired(), Length(max=MAX_CONTACT_REASON_LENGTH)],
        description=_l(
            "Kept in the audit log, which is never purged: say why, never copy the contact."
        ),
        render_kw={"required": True, "maxlength": MAX_CONTACT_REASON_LENGTH},
    )


def _choice_label(spec: FieldSpec, code: str) -> str:
    return label(code, spec.name) if spec.name in KINDS else code.replace("_", " ")


def _field_for(spec: FieldSpec, options: dict[str, Sequence[tuple[str, str]]]) -> Field:
    # The workflow marks its labels with N_ (it knows nothing of Flask); they
    # are translated here, on display. The time field adds its zone's name.
    name = _l(spec.label) if spec.label else spec.name
    required = requirement(spec) == "required"
    render_kw = {"required": True, "aria-required": "true"} if required else {}
    if spec.kind == "choice":
        return SelectField(
            name,
            choices=select_choices(((c, _choice_label(spec, c)) for c in spec.choices), blank="—"),
            validate_choice=False,  # the workflow validates, with its own messages
            render_kw=render_kw,
        )
    if spec.kind == "country":
        return SelectField(
            name,
            choices=select_choices(country_choices(), blank="—"),
            validate_choice=False,
            render_kw=render_kw,
        )
    if spec.kind == "bool":
        return BooleanField(name)
    if spec.kind == "text":
        return TextAreaField(
            name, validators=[Length(max=MAX_REASON_LENGTH)], render_kw=render_kw or None
        )
    if spec.kind == "datetime":
        # Typed on the hotline's wall clock (its label names the zone); the
        # workflow gets it in UTC.
        return LocalDateTimeField(name, default_now=True, render_kw=render_kw or None)
    if spec.kind == "id" and spec.refers_to in options:
        return SelectField(
            name,
            choices=select_choices(options[spec.refers_to], blank="—"),
            validate_choice=False,
            render_kw=render_kw,
        )
    return StringField(name, validators=[Length(max=2048)], render_kw=render_kw or None)


def requirement(spec: FieldSpec) -> str | None:
    """How the case page marks the field: "required", "conditional" (required
    only in some cases, see :func:`required_when`) or None."""
    if spec.kind == "bool":
        return None
    if spec.required_if is not None or (spec.required_when and not spec.required):
        return "conditional"
    return "required" if spec.required else None


def required_when(spec: FieldSpec) -> str:
    """In plain words, when a conditionally required field is required."""
    if spec.required_if is is_illegal:
        return _("Required when the classification is illegal (baseline or national).")
    if spec.required_when:
        return _("Required when %(condition)s.", condition=spec.required_when)
    return ""


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


def restored_action_form(
    rule: ActionRule,
    options: dict[str, Sequence[tuple[str, str]]],
    values: Mapping[str, str],
    errors: Mapping[str, Sequence[str]],
    *,
    form_key: str = "",
) -> FlaskForm:
    """The form of ``rule`` as it was submitted (``values`` by field name),
    with its ``errors`` by field name (``form_key``: those about the whole form)."""
    prefix = rule.action.value
    formdata = MultiDict({f"{prefix}-{name}": value for name, value in values.items()})
    form = build_action_form(rule, options, formdata=formdata)
    for name, messages in errors.items():
        if name != form_key and name in form and name != "version":
            form[name].errors = list(messages)
        else:
            form.form_errors.extend(messages)
    return form


def action_values(form: FlaskForm) -> dict[str, object]:
    """The values of an action form, keyed as the workflow names them (a time
    typed on the hotline's wall clock is already UTC)."""
    return {spec.name: form[spec.name].data for spec in form.rule.fields}


def submitted_values(form: FlaskForm) -> dict[str, str]:
    """What was typed into an action form, as text, to show it again."""
    values = {}
    for spec in form.rule.fields:
        raw = form[spec.name].raw_data
        if raw:
            values[spec.name] = str(raw[0])
    return values
