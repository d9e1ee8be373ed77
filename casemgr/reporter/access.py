"""The /status page's pass: proof that its holder typed the right code a moment ago.

After the code is checked, the status page carries this token in a hidden
field of its forms (never in a URL, never in a cookie), so that adding to the
report does not ask for the code again nor pay for another slow hash. It
holds the submission's id, encrypted and timestamped (Fernet under a key
derived from SECRET_KEY), and expires after ``STATUS_ACCESS_MAX_AGE`` seconds.

Pure functions: the key and the time are passed in.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken

MAX_TOKEN_LENGTH = 500


@lru_cache(maxsize=4)
def _fernet(secret_key: str) -> Fernet:
    key = hashlib.sha256(b"casemgr-status-access:" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def make_token(submission_id: int, *, secret_key: str, now: datetime) -> str:
    payload = json.dumps({"s": submission_id}).encode()
    return _fernet(secret_key).encrypt_at_time(payload, int(now.timestamp())).decode("ascii")


def read_token(token: str, *, secret_key: str, now: datetime, max_age: int) -> int | None:
    """The submission id in ``token``; None when forged, damaged or expired."""
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        return None
    try:
        payload = _fernet(secret_key).decrypt_at_time(
            token.encode("ascii"), ttl=max_age, current_time=int(now.timestamp())
        )
        submission_id = json.loads(payload)["s"]
    except (InvalidToken, ValueError, KeyError, TypeError):
        return None
    return submission_id if isinstance(submission_id, int) else None
