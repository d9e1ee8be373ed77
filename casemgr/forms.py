"""Helpers shared by the forms of every feature."""

from __future__ import annotations

from collections.abc import Iterable

from wtforms.fields.choices import SelectChoice


def select_choices(
    pairs: Iterable[tuple[str, str]], *, blank: str | None = None
) -> list[SelectChoice]:
    """WTForms choices from (value, label) pairs, optionally after a blank option."""
    options = [SelectChoice("", blank)] if blank is not None else []
    options.extend(SelectChoice(value, label) for value, label in pairs)
    return options
