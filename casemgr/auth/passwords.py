"""The password policy: length over complexity (NIST SP 800-63B).

At least 12 characters, at most 1024; not one of the most common passwords
(common-passwords.txt, made by bin/make-common-passwords), also not with
only digits or symbols around one ("password2024!"), nor one repeated
("qwertyqwerty"), nor of fewer than four different characters; not
containing the local part of the user's e-mail.
No rules about character classes: they make passwords harder to remember,
not to guess.
"""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path

from flask_babel import gettext

MIN_LENGTH = 12
MAX_LENGTH = 1024
_PADDING = string.digits + string.punctuation + string.whitespace


@cache
def common_passwords() -> frozenset[str]:
    path = Path(__file__).with_name("common-passwords.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def problems(password: str, *, email: str | None = None) -> list[str]:
    """What is wrong with ``password`` for the account with ``email``; [] if nothing."""
    if len(password) < MIN_LENGTH:
        return [gettext("must be at least %(num)d characters", num=MIN_LENGTH)]
    if len(password) > MAX_LENGTH:
        return [gettext("must be at most %(num)d characters", num=MAX_LENGTH)]
    found = []
    if _is_common(password):
        found.append(gettext("is one of the most common passwords; choose a less predictable one"))
    local = (email or "").partition("@")[0].strip().lower()
    if len(local) >= 3 and local in password.lower():
        found.append(gettext("must not contain your e-mail address or its name part"))
    return found


def _is_common(password: str) -> bool:
    common = common_passwords()
    text = password.lower()
    core = text.strip(_PADDING)
    if text in common or (core and core in common) or len(set(text)) < 4:
        return True
    return any(_repeats(candidate) in common for candidate in (text, core) if candidate)


def _repeats(text: str) -> str:
    """The shortest part that ``text`` repeats (``"abcabc"`` -> ``"abc"``), else ``text``."""
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return text[:size]
    return text
