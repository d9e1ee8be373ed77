"""The forms of /status (public, CSRF without a signed-in session, like /report)
and the staff's question on a case page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from casemgr.forms import StaffForm
from casemgr.public.forms import (
    MAX_URLS_TEXT,
    TOO_LONG,
    no_control_characters,
    readable_text,
)
from casemgr.reporter.codes import MAX_TYPED_LENGTH
from casemgr.reporter.services import MAX_MESSAGE_LENGTH


class StatusCodeForm(FlaskForm):
    # Length is checked by codes.normalise, with a message of its own.
    code = StringField(
        _l("Your receipt code"),
        description=_l(
            "The code from the thank-you page, for example 7K3M-Q9XA-2BCD-EFGH-JKMN-PQRS."
        ),
        render_kw={
            "autocomplete": "off",
            "autocapitalize": "characters",
            "spellcheck": "false",
            "maxlength": MAX_TYPED_LENGTH,
        },
    )


class AdditionForm(FlaskForm):
    """More addresses and/or a message, with the pass from the checked code."""

    access = HiddenField()
    urls = TextAreaField(
        _l("More web addresses (optional)"),
        validators=[Length(max=MAX_URLS_TEXT, message=TOO_LONG), readable_text],
    )
    message = TextAreaField(
        _l("A message for our analysts (optional)"),
        validators=[
            Optional(),
            Length(max=MAX_MESSAGE_LENGTH, message=TOO_LONG),
            readable_text,
            no_control_characters(allow_line_breaks=True),
        ],
        description=_l(
            "Text only. You can answer our questions here. Never send pictures or describe "
            "what the images or videos show."
        ),
    )


class QuestionForm(StaffForm):
    """A question to the reporter (prefix "question": the field is "question-body")."""

    body = TextAreaField(
        _l("Question to the reporter"),
        validators=[Length(max=MAX_MESSAGE_LENGTH)],
        description=_l(
            "The reporter reads it on the status page with their receipt code. Never name a "
            "provider, partner, police or colleague: whoever holds the code may not be the "
            "reporter."
        ),
    )
