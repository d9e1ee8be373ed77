"""What the e-mails say, per language: short, plain text, never about the material.

The letter is the PDF attached; the e-mail around it only names it. The
feedback to a reporter says that their report was handled, nothing more.

``MAIL_WORDING`` (configuration) overrides keys per language, e.g.
``{"km": {"feedback_body": "..."}}``; a language may give only some keys,
the others come from English. ``feedback_body`` may hold ``{statuses}``:
the coarse statuses of the report's addresses (as /status shows them),
introduced by ``feedback_statuses``. In every text ``{reference}``, ``{title}``
(letters), ``{recipient}`` (letters), ``{hotline}`` and ``{hotline_email}``
are filled in.

A notice or reminder to a hosting provider that has a response link says so
in its body: ``letter_response`` (which must hold ``{link}``) takes the place
of ``{response}`` in ``letter_body``, or follows the body where a configured
``letter_body`` has no ``{response}``. Without a link (``PUBLIC_BASE_URL``
empty) ``{response}`` is left empty and the body says nothing of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

FALLBACK_LANGUAGE = "en"
TEXT_KEYS = (
    "letter_subject",
    "letter_body",
    "letter_response",
    "feedback_subject",
    "feedback_body",
    "feedback_statuses",
)
LETTER_KINDS = ("notice", "referral", "reminder", "escalation")

DEFAULT_MAIL_WORDING: Mapping[str, Mapping[str, Any]] = {
    "en": {
        "letter_subject": "{title} {reference}",
        "letter_body": (
            "To {recipient},\n\n"
            "Please find attached our letter {reference} ({title}).\n\n"
            "{response}"
            "Please reply to {hotline_email}, quoting our reference {reference}.\n\n"
            "{hotline}\n"
        ),
        "letter_response": (
            "You can tell us what was done about each URL of this letter on this page, "
            "with no account needed:\n{link}\n\n"
        ),
        "feedback_subject": "Your report {reference}",
        "feedback_body": (
            "Thank you for your report {reference}. We have finished handling it.\n\n"
            "{statuses}{hotline}\n"
        ),
        "feedback_statuses": "What happened to the web addresses you sent:",
        "titles": {
            "notice": "Takedown notice",
            "referral": "Referral",
            "reminder": "Reminder",
            "escalation": "Escalation",
        },
    },
    "km": {
        "letter_subject": "{title} {reference}",
        "letter_body": (
            "ជូនចំពោះ {recipient}\n\n"
            "សូមមើលលិខិតលេខ {reference} ({title}) ដែលភ្ជាប់មកជាមួយនេះ។\n\n"
            "{response}"
            "សូមឆ្លើយតបមកកាន់ {hotline_email} ដោយបញ្ជាក់លេខយោង {reference} របស់យើង។\n\n"
            "{hotline}\n"
        ),
        "letter_response": (
            "អ្នកអាចប្រាប់យើងពីអ្វីដែលបានធ្វើចំពោះ URL នីមួយៗនៃលិខិតនេះ នៅលើទំព័រនេះ "
            "ដោយមិនចាំបាច់មានគណនី៖\n{link}\n\n"
        ),
        "feedback_subject": "របាយការណ៍របស់អ្នក {reference}",
        "feedback_body": (
            "សូមអរគុណចំពោះរបាយការណ៍ {reference} របស់អ្នក។ "
            "យើងបានបញ្ចប់ការដោះស្រាយរបាយការណ៍នេះហើយ។\n\n{statuses}{hotline}\n"
        ),
        "feedback_statuses": "អ្វីដែលបានកើតឡើងចំពោះអាសយដ្ឋានវេបសាយដែលអ្នកបានផ្ញើ៖",
        "titles": {
            "notice": "សេចក្តីជូនដំណឹងស្នើសុំលុបចេញ",
            "referral": "លិខិតបញ្ជូនបន្ត",
            "reminder": "លិខិតរំលឹក",
            "escalation": "លិខិតលើកឡើងបន្ទាន់",
        },
    },
}


@dataclass(frozen=True)
class Mail:
    subject: str
    body: str


@dataclass(frozen=True)
class MailWording:
    """Every language's texts, complete: checked once, from the configuration."""

    languages: Mapping[str, Mapping[str, Any]]

    @classmethod
    def from_config(cls, configured: Any) -> MailWording:
        """The defaults with ``MAIL_WORDING`` merged over; raises ValueError naming a bad key."""
        if not isinstance(configured, Mapping):
            raise ValueError("MAIL_WORDING must map language codes to texts")
        merged: dict[str, dict[str, Any]] = {
            language: {**values, "titles": dict(values["titles"])}
            for language, values in DEFAULT_MAIL_WORDING.items()
        }
        for language, values in configured.items():
            where = f"MAIL_WORDING[{language!r}]"
            if not isinstance(values, Mapping):
                raise ValueError(f"{where} must be a mapping")
            unknown = set(values) - set(TEXT_KEYS) - {"titles"}
            if unknown:
                raise ValueError(f"{where} has unknown keys: {sorted(unknown)}")
            own = merged.setdefault(str(language), {"titles": {}})
            for key in TEXT_KEYS:
                if key in values:
                    if not isinstance(values[key], str) or not values[key].strip():
                        raise ValueError(f"{where}[{key!r}] must be text")
                    if key == "letter_response" and "{link}" not in values[key]:
                        raise ValueError(f"{where}['letter_response'] must hold {{link}}")
                    own[key] = values[key]
            titles = values.get("titles", {})
            if not isinstance(titles, Mapping) or set(titles) - set(LETTER_KINDS):
                raise ValueError(f"{where}['titles'] must map letter kinds {LETTER_KINDS} to text")
            own["titles"].update(titles)
        return cls(merged)

    def _texts(self, language: str | None) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
        english = self.languages[FALLBACK_LANGUAGE]
        return self.languages.get(language or FALLBACK_LANGUAGE, english), english

    def letter(
        self,
        language: str | None,
        *,
        kind: str,
        reference: str,
        recipient: str,
        hotline: str,
        hotline_email: str,
        response_url: str | None = None,
    ) -> Mail:
        """A letter's e-mail; with ``response_url``, the body gives the response link."""
        own, english = self._texts(language)
        title = own["titles"].get(kind) or english["titles"].get(kind) or kind
        values = {
            "title": title,
            "reference": reference,
            "recipient": recipient,
            "hotline": hotline,
            "hotline_email": hotline_email,
        }
        body = own.get("letter_body") or english["letter_body"]
        response = ""
        if response_url:
            wording = own.get("letter_response") or english["letter_response"]
            response = _fill(wording, values).replace("{link}", response_url)
            if "{response}" not in body:
                body = body.rstrip("\n") + "\n\n" + response.rstrip("\n") + "\n"
        return Mail(
            subject=_one_line(
                _fill(own.get("letter_subject") or english["letter_subject"], values)
            ),
            body=_fill(body, values).replace("{response}", response),
        )

    def feedback(
        self,
        language: str | None,
        *,
        reference: str,
        hotline: str,
        hotline_email: str,
        statuses: Sequence[tuple[str, int]] = (),
    ) -> Mail:
        """The reporter's feedback; ``statuses`` are (label, count) pairs, the
        coarse statuses of /status already in the mail's language, filling
        ``{statuses}`` (or following a configured body that has none)."""
        own, english = self._texts(language)
        values = {"reference": reference, "hotline": hotline, "hotline_email": hotline_email}
        listed = ""
        if statuses:
            intro = own.get("feedback_statuses") or english["feedback_statuses"]
            lines = "".join(f"- {label}: {count}\n" for label, count in statuses)
            listed = f"{intro}\n{lines}\n"
        body = own.get("feedback_body") or english["feedback_body"]
        if "{statuses}" not in body and listed:
            body = body.rstrip("\n") + "\n\n" + listed
        return Mail(
            subject=_one_line(
                _fill(own.get("feedback_subject") or english["feedback_subject"], values)
            ),
            body=_fill(body, values).replace("{statuses}", listed),
        )


def _fill(text: str, values: Mapping[str, str]) -> str:
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


def _one_line(text: str) -> str:
    """A header's text: whitespace (line breaks from a name included) made single spaces."""
    return " ".join(text.split())
