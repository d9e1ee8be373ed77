"""The response page's form: one group of fields per URL of the letter."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Form, FormField, RadioField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from casemgr.cases.labels import PROVIDER_ANSWER
from casemgr.cases.models import Case
from casemgr.forms import LocalDateTimeField, select_choices
from casemgr.public.forms import TOO_LONG, no_control_characters, readable_text
from casemgr.responses.services import (
    CANNOT_REMOVE,
    MAX_HOSTED_BY,
    MAX_MESSAGE,
    NEED_INFORMATION,
    REMOVED,
    Answer,
)

ANSWER_LABELS = PROVIDER_ANSWER


class UrlAnswerForm(Form):
    """The answer about one URL (a sub-form: the page's form carries the CSRF token)."""

    answer = RadioField(
        _l("Your answer"),
        choices=select_choices(ANSWER_LABELS.items(), blank=_l("No answer now")),
        default="",
        validate_choice=False,  # checked below, with a message that says what is wrong
    )
    removed_at = LocalDateTimeField(_l("Removed at (optional)"))
    hosted_by = StringField(
        _l("Who hosts it, if you know (optional)"),
        validators=[
            Optional(),
            Length(max=MAX_HOSTED_BY, message=TOO_LONG),
            readable_text,
            no_control_characters(allow_line_breaks=False),
        ],
    )
    message = TextAreaField(
        _l("Reason, or what you need to know"),
        validators=[
            Optional(),
            Length(max=MAX_MESSAGE, message=TOO_LONG),
            readable_text,
            no_control_characters(allow_line_breaks=True),
        ],
    )

    # Set by ResponseForm: the time now, and when the case's report arrived.
    now: datetime
    received_at: datetime

    def validate_answer(self, field) -> None:
        if field.data not in ("", *ANSWER_LABELS):
            raise ValidationError(_l("Please choose one of the answers."))

    def validate_removed_at(self, field) -> None:
        if field.data is None or self.answer.data != REMOVED:
            return
        if field.data > self.now:
            raise ValidationError(_l("This time is in the future."))
        if field.data < self.received_at:
            raise ValidationError(_l("This is before we received the report."))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # After the fields' own checks, which clear each field's errors first.
        if (
            self.answer.data in (CANNOT_REMOVE, NEED_INFORMATION)
            and not (self.message.data or "").strip()
        ):
            if self.answer.data == CANNOT_REMOVE:
                self.message.errors.append(_l("Please tell us why it cannot be removed."))
            else:
                self.message.errors.append(_l("Please tell us what you need to know."))
            valid = False
        return valid


def response_form(cases: Sequence[Case], *, now: datetime, **kwargs) -> FlaskForm:
    """The form for a letter's ``cases``: a sub-form ``url_<case id>`` for each."""

    class ResponseForm(FlaskForm):
        pass

    for case in cases:
        setattr(ResponseForm, f"url_{case.id}", FormField(UrlAnswerForm))
    form = ResponseForm(**kwargs)
    for case in cases:
        sub = form[f"url_{case.id}"].form
        sub.now, sub.received_at = now, case.received_at
    return form


def answers_of(form: FlaskForm, cases: Sequence[Case]) -> list[Answer]:
    """The answers given (URLs left at "no answer now" give none)."""
    given = []
    for case in cases:
        sub = form[f"url_{case.id}"].form
        if not sub.answer.data:
            continue
        given.append(
            Answer(
                case_id=case.id,
                answer=sub.answer.data,
                removed_at=sub.removed_at.data,
                hosted_by=(sub.hosted_by.data or "").strip() or None,
                message=(sub.message.data or "").strip() or None,
            )
        )
    return given
