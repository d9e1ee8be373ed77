"""The second factor: TOTP (RFC 6238, 30-second steps, 6 digits) and one-time
recovery codes. Callers pass the session, the cipher and ``now``; they commit.

- The secret is stored encrypted (the cipher of reporters' contacts), and so
  is one being set up, on the user's row: never in the session cookie.
- A code is accepted for the step of ``now`` and one step either side
  (``valid_window=1``: clocks drift), and only for a step later than the last
  one accepted for the user: a code, once used, is never accepted again, and
  neither is an older one. The check and the update are one UPDATE, so two
  requests racing with one code cannot both pass.
- Ten recovery codes, shown once, stored as SHA-256, each usable once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

import pyotp
import segno
from sqlalchemy import delete, or_, update
from sqlalchemy.orm import Session

from casemgr.audit.services import record
from casemgr.auth import session_store
from casemgr.auth.models import RecoveryCode, User
from casemgr.crypto import ContactCipher

RECOVERY_CODE_COUNT = 10
VALID_WINDOW = 1
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
_TOTP = re.compile(r"[0-9]{6}")
_RECOVERY = re.compile(r"[a-z0-9]{16}")


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends


def provisioning_uri(secret: str, *, email: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The QR code of ``uri`` as inline SVG, drawn here (no third-party site, no script)."""
    return segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff")


def current_code(secret: str, now: datetime) -> str:
    """The code an authenticator shows at ``now`` (for tests and the enrolment check)."""
    return pyotp.TOTP(secret).at(now)


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    totp = pyotp.TOTP(secret)
    step = totp.timecode(now)
    for candidate in range(step - VALID_WINDOW, step + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def normalise(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


def secret_of(user: User, cipher: ContactCipher) -> str | None:
    return cipher.decrypt(user.totp_secret) if user.totp_secret is not None else None


# --- enrolling


def pending_secret(
    session: Session,
    user: User,
    holder: str,
    *,
    now: datetime,
    cipher: ContactCipher,
    lifetime: timedelta,
) -> tuple[str, bool]:
    """The secret being set up in the browser whose session holds the random
    ``holder``, kept on the user's row (encrypted), never in the cookie.

    The one made for this holder less than ``lifetime`` ago; else a new one,
    which replaces any other (and so another browser's: a secret is only ever
    shown to the browser it was made for). Returns it and whether it is new."""
    if (
        user.totp_pending_secret is not None
        and user.totp_pending_at is not None
        and user.totp_pending_holder is not None
        and hmac.compare_digest(user.totp_pending_holder, _holder_hash(holder))
        and now - lifetime < user.totp_pending_at <= now
    ):
        return cipher.decrypt(user.totp_pending_secret), False
    secret = new_secret()
    user.totp_pending_secret = cipher.encrypt(secret)
    user.totp_pending_at = now
    user.totp_pending_holder = _holder_hash(holder)
    session.flush()
    return secret, True


def _holder_hash(holder: str) -> str:
    return hashlib.sha256(holder.encode()).hexdigest()


def enrol(
    session: Session,
    user: User,
    secret: str,
    code: str,
    *,
    now: datetime,
    cipher: ContactCipher,
    keep: str | None = None,
) -> list[str] | None:
    """Keep ``secret`` as the user's second factor if ``code`` proves the app has it.

    Returns the new recovery codes (to be shown once), or None when the code
    is wrong. Every session of the user ends but the one whose key is ``keep``
    (the caller signs it in again, or signs in afresh)."""
    step = (
        _matching_step(secret, normalise(code), now) if _TOTP.fullmatch(normalise(code)) else None
    )
    if step is None:
        record(
            session,
            action="auth.2fa_enrol_failed",
            now=now,
            actor_id=user.id,
            target_type="user",
            target_id=user.id,
        )
        return None
    user.totp_secret = cipher.encrypt(secret)
    user.totp_enrolled_at = now
    user.totp_last_step = step
    user.totp_pending_secret = user.totp_pending_at = user.totp_pending_holder = None
    session_store.end_every_session(session, user, now=now, reason="two_factor", keep=keep)
    codes = _replace_recovery_codes(session, user, now=now)
    record(
        session,
        action="auth.2fa_enrol",
        now=now,
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
    )
    return codes


def new_recovery_codes(session: Session, user: User, *, now: datetime) -> list[str]:
    """A fresh set of recovery codes; the old ones stop working."""
    codes = _replace_recovery_codes(session, user, now=now)
    record(
        session,
        action="auth.2fa_recovery_codes",
        now=now,
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
    )
    return codes


def _replace_recovery_codes(session: Session, user: User, *, now: datetime) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(16))  # 78 bits
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
        session.add(RecoveryCode(user_id=user.id, code_hash=RecoveryCode.hash(raw), created_at=now))
    session.flush()
    return codes


# --- signing in


def verify(
    session: Session, user: User, code: str, *, now: datetime, cipher: ContactCipher
) -> str | None:
    """``"totp"`` or ``"recovery_code"`` if ``code`` is a good second factor for
    ``user`` now (and uses it up), else None. Audits success; the caller
    audits and counts a failure (auth.signin.login_failed)."""
    text = normalise(code)
    secret = secret_of(user, cipher)
    if secret is None:
        return None
    if _TOTP.fullmatch(text):
        step = _matching_step(secret, text, now)
        if step is None:
            return None
        used = session.execute(
            update(User)
            .where(
                User.id == user.id,
                or_(User.totp_last_step.is_(None), User.totp_last_step < step),
            )
            .values(totp_last_step=step)
            .execution_options(synchronize_session=False)
        )
        if used.rowcount != 1:
            record(
                session,
                action="auth.2fa_replay",
                now=now,
                actor_id=user.id,
                target_type="user",
                target_id=user.id,
            )
            return None
        return "totp"
    if _RECOVERY.fullmatch(text):
        used = session.execute(
            update(RecoveryCode)
            .where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == RecoveryCode.hash(text),
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        if used.rowcount == 1:
            record(
                session,
                action="auth.2fa_recovery_code_used",
                now=now,
                actor_id=user.id,
                target_type="user",
                target_id=user.id,
            )
            return "recovery_code"
    return None


def recovery_codes_left(session: Session, user: User) -> int:
    return sum(1 for code in user.recovery_codes if code.used_at is None)
