"""The public report form. Labels are translated when the page is drawn."""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote_to_bytes

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from casemgr.cases.receiving import MAX_CONTACT_LENGTH, MAX_DESCRIPTION_LENGTH, SEEN_WHERE
from casemgr.forms import select_choices
from casemgr.intake.urls import MAX_URL_LENGTH

SEEN_WHERE_LABELS = {
    "website": _l("A website"),
    "social_media": _l("Social media"),
    "chat_app": _l("A chat or messaging app"),
    "file_sharing": _l("A file-sharing service"),
    "other": _l("Somewhere else"),
}
assert set(SEEN_WHERE_LABELS) == set(SEEN_WHERE)

# The URL box: every allowed line at full length, with its line break.
MAX_URLS_TEXT = 50 * (MAX_URL_LENGTH + 2)

TOO_LONG = _l("Please keep this under %(max)d characters.")


def readable_text(form, field) -> None:
    """Refuse text that arrived in another encoding than UTF-8.

    Bytes that are not UTF-8 reach the form as U+FFFD replacement
    characters; storing them would keep a garbled report.
    """
    if field.data and "\ufffd" in field.data:
        raise ValidationError(UNREADABLE)


UNREADABLE = _l(
    "Some of this text could not be read (your browser sent it in an unexpected "
    "encoding). Please type it again."
)


def undecodable_fields(body: bytes) -> set[str]:
    """Names of the url-encoded fields in ``body`` whose value is not UTF-8.

    Werkzeug keeps such bytes as literal ``%XX`` text, which would be stored
    as a garbled report; a browser always sends a typed ``%`` as ``%25``, so
    undecodable bytes in the raw body can only come from a wrong encoding.
    """
    bad = set()
    for pair in body.split(b"&"):
        name, _, value = pair.partition(b"=")
        try:
            unquote_to_bytes(value.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            bad.add(unquote_to_bytes(name).decode("utf-8", "replace"))
    return bad


def no_control_characters(allow_line_breaks: bool):
    allowed = "\t\r\n" if allow_line_breaks else ""

    def check(form, field) -> None:
        if field.data and any(
            unicodedata.category(ch) in ("Cc", "Cs") and ch not in allowed for ch in field.data
        ):
            raise ValidationError(
                _l("This text contains hidden control characters. Please type it again.")
            )

    return check


class PublicReportForm(FlaskForm):
    urls = TextAreaField(
        _l("Web addresses (URLs)"),
        validators=[Length(max=MAX_URLS_TEXT, message=TOO_LONG), readable_text],
    )
    seen_where = SelectField(
        _l("Where did you see it? (optional)"),
        choices=select_choices([("", _l("Choose…")), *SEEN_WHERE_LABELS.items()]),
        default="",
        validate_choice=False,  # checked below, with our own message
    )
    description = TextAreaField(
        _l("Anything else we should know? (optional)"),
        validators=[
            Optional(),
            Length(max=MAX_DESCRIPTION_LENGTH, message=TOO_LONG),
            readable_text,
            no_control_characters(allow_line_breaks=True),
        ],
    )
    contact = StringField(
        _l("Your contact details (optional)"),
        validators=[
            Optional(),
            Length(max=MAX_CONTACT_LENGTH, message=TOO_LONG),
            readable_text,
            no_control_characters(allow_line_breaks=False),
        ],
    )
    feedback_requested = BooleanField(_l("I want feedback on my report"))
    # The honeypot: hidden from people (and screen readers); bots fill it in.
    subject = StringField(_l("Leave this field empty"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        config = current_app.config
        self.urls.description = _l(
            "One address per line, up to %(limit)d. Copy it from your browser's address bar.",
            limit=config["MAX_URLS_PER_SUBMISSION"],
        )
        self.description.description = _l(
            "For example, how you came across the address. You do not need to describe "
            "what the images or videos show."
        )
        self.contact.description = _l(
            "An e-mail address or a phone number. Only our staff can read it: it is stored "
            "encrypted and deleted %(days)d days after we finish with your report.",
            days=config["CONTACT_RETENTION_DAYS"],
        )
        self.feedback_requested.description = _l(
            "We only contact you if you tick this box and give your contact details."
        )

    def flag_unreadable(self, body: bytes) -> None:
        """Put an error on every field that arrived in another encoding than UTF-8."""
        for name in undecodable_fields(body):
            if name in self and name not in ("csrf_token", "subject"):
                field = self[name]
                field.errors = [*field.errors, UNREADABLE]

    def validate_seen_where(self, field) -> None:
        if field.data and field.data not in SEEN_WHERE:
            raise ValidationError(_l("Please choose one of the options."))

    def validate_feedback_requested(self, field) -> None:
        if field.data and not (self.contact.data or "").strip():
            raise ValidationError(
                _l("To get feedback, please give a way to contact you, or untick the box.")
            )
