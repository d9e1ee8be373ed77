"""Receipt codes: made, read back as a person types them, and slow-hashed.

A code is 24 characters of Crockford's base32 (digits and capitals without
I, L, O and U: nothing to confuse when read aloud or copied by hand), shown
in six groups of four: ``7K3M-Q9XA-...``. The first two groups are the
*selector* (40 bits), stored in clear and indexed, that finds the row without
a scan; the last sixteen characters (80 bits from ``secrets``) are the
*verifier*, stored only as a scrypt hash with a salt of its own. Codes given
before December 2026 have 20 characters, a selector of one group (20 bits,
which a busy hotline would have used up: a million receipts fill them), and
are still read. A look-up always costs one hash,
whether or not the selector exists (:func:`verify` against a dummy), so a
wrong code takes the time of a right one.

Pure Python: no Flask, no database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 24
SELECTOR_LENGTH = 8
VERIFIER_LENGTH = 16
# The codes given before the selector grew: read, never made.
OLD_CODE_LENGTH = 20
GROUP_LENGTH = 4
# What a person may type for a character of the code: look-alikes read as
# the character they resemble, lower case as upper case.
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
# Typed between the groups (or anywhere): ignored.
_SEPARATORS = str.maketrans("", "", " -–—._\t\r\n\u00a0\u2010\u2011\u2212")
# Longer than this is not a code mistyped: refused before anything is read.
MAX_TYPED_LENGTH = 100


class CodeProblem(StrEnum):
    EMPTY = "empty"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    BAD_CHARACTERS = "bad_characters"


class CodeRefused(ValueError):
    """What was typed cannot be a receipt code (whatever codes exist)."""

    def __init__(self, problem: CodeProblem, length: int = 0) -> None:
        self.problem = problem
        self.length = length
        super().__init__(problem.value)


def new_code() -> str:
    """A fresh code, ungrouped (120 bits: 40 selector, 80 verifier)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def grouped(code: str) -> str:
    """``code`` in groups of four, as the thank-you page shows it."""
    return "-".join(code[i : i + GROUP_LENGTH] for i in range(0, len(code), GROUP_LENGTH))


def normalise(typed: str) -> str:
    """The code a person meant by ``typed``; raises CodeRefused saying why not."""
    if len(typed) > MAX_TYPED_LENGTH:
        raise CodeRefused(CodeProblem.TOO_LONG, len(typed))
    code = typed.translate(_SEPARATORS).upper().translate(_LOOKALIKES)
    if not code:
        raise CodeRefused(CodeProblem.EMPTY)
    if any(ch not in ALPHABET for ch in code):
        raise CodeRefused(CodeProblem.BAD_CHARACTERS, len(code))
    if len(code) < CODE_LENGTH and len(code) != OLD_CODE_LENGTH:
        raise CodeRefused(CodeProblem.TOO_SHORT, len(code))
    if len(code) > CODE_LENGTH:
        raise CodeRefused(CodeProblem.TOO_LONG, len(code))
    return code


def split(code: str) -> tuple[str, str]:
    """(selector, verifier) of a normalised code (of either length)."""
    return code[:-VERIFIER_LENGTH], code[-VERIFIER_LENGTH:]


@dataclass(frozen=True)
class ScryptParams:
    """scrypt's cost. The default is the scrypt paper's "interactive" setting
    (N=2^14, r=8, p=1: 16 MiB of memory a hash), a fifth of the CPU of
    OWASP's minimum for passwords: the verifier is 80 random bits, which no
    number of guesses reaches, so the hash is slow to make a stolen table
    costly to test at all, not to stretch a guessable secret, and it is paid
    on every public submission and every code tried. Tests use a cheap one."""

    n: int = 2**14
    r: int = 8
    p: int = 1

    @classmethod
    def from_config(cls, value) -> ScryptParams:
        n, r, p = (int(part) for part in value)
        if n < 2 or n & (n - 1) or r < 1 or p < 1:
            raise ValueError(f"RECEIPT_SCRYPT must be (N, r, p) with N a power of 2, not {value!r}")
        return cls(n, r, p)


_SALT_BYTES = 16
_DIGEST_BYTES = 32


def _scrypt(verifier: str, salt: bytes, params: ScryptParams) -> bytes:
    return hashlib.scrypt(
        verifier.encode("ascii"),
        salt=salt,
        n=params.n,
        r=params.r,
        p=params.p,
        maxmem=256 * params.n * params.r + 1024 * 1024,
        dklen=_DIGEST_BYTES,
    )


def hash_verifier(verifier: str, params: ScryptParams) -> str:
    """``scrypt$N$r$p$salt$digest`` (base64): what is stored, never the verifier."""
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(verifier, salt, params)
    return "$".join(
        ("scrypt", str(params.n), str(params.r), str(params.p), _b64(salt), _b64(digest))
    )


def verify(stored: str | None, verifier: str, params: ScryptParams) -> bool:
    """Whether ``verifier`` matches ``stored``; with None (no such selector) the
    same work against a dummy hash, and False."""
    if stored is None:
        stored, real = _dummy(params), False
    else:
        real = True
    try:
        name, n, r, p, salt, digest = stored.split("$")
        own = ScryptParams(int(n), int(r), int(p))
        expected = base64.b64decode(digest)
        salt_bytes = base64.b64decode(salt)
    except ValueError:
        return False
    matches = hmac.compare_digest(_scrypt(verifier, salt_bytes, own), expected)
    return real and name == "scrypt" and matches


@lru_cache(maxsize=4)
def _dummy(params: ScryptParams) -> str:
    return hash_verifier("0" * VERIFIER_LENGTH, params)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
