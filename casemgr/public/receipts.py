"""The thank-you page's receipt, carried in its URL rather than in a cookie.

After a report is saved the browser is redirected (POST-redirect-GET) to
``/report/thanks?t=TOKEN``. The token holds the submission reference and the
number of addresses received, encrypted and timestamped (Fernet), so:

- the page needs no cookie and no server-side state to show the reference;
- a reload within ``RECEIPT_MAX_AGE`` seconds shows it again;
- later, the address left in the browser history shows nothing, and the token
  itself cannot be read without the server's key (a signed-only token would
  show the reference to anyone who finds the history entry).

Pure functions: the key and the time are passed in.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken

MAX_TOKEN_LENGTH = 1000


@dataclass(frozen=True)
class Receipt:
    reference: str | None  # None: nothing was recorded (the honeypot was filled in)
    count: int
    # The receipt code (casemgr/reporter/codes.py), grouped: encrypted in the
    # token like the reference, and nowhere else once the page is gone.
    code: str | None = None


@lru_cache(maxsize=4)
def _fernet(secret_key: str) -> Fernet:
    key = hashlib.sha256(b"casemgr-receipt:" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def make_token(receipt: Receipt, *, secret_key: str, now: datetime) -> str:
    fields = {"r": receipt.reference, "n": receipt.count}
    if receipt.code:
        fields["c"] = receipt.code
    payload = json.dumps(fields, separators=(",", ":"))
    return (
        _fernet(secret_key).encrypt_at_time(payload.encode(), int(now.timestamp())).decode("ascii")
    )


def read_token(token: str, *, secret_key: str, now: datetime, max_age: int) -> Receipt | None:
    """The receipt in ``token``; None when it is forged, damaged or older than ``max_age`` s."""
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        return None
    try:
        payload = _fernet(secret_key).decrypt_at_time(
            token.encode("ascii"), ttl=max_age, current_time=int(now.timestamp())
        )
        data = json.loads(payload)
        reference, count, code = data["r"], int(data["n"]), data.get("c")
    except (InvalidToken, ValueError, KeyError, TypeError, AttributeError):
        return None
    if reference is not None and not isinstance(reference, str):
        return None
    return Receipt(reference, count, code if isinstance(code, str) else None)
