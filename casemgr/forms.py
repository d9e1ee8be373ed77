"""Helpers shared by the forms of every feature."""

from __future__ import annotations

from collections.abc import Iterable

from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from casemgr.errors import ValidationFailed


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
