"""Encryption at rest of reporters' contact details (Fernet: AES-128-CBC + HMAC)."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken


class ContactCipher:
    def __init__(self, key: str | bytes):
        self._fernet = Fernet(key)

    @classmethod
    def from_config(cls, encryption_key: str, secret_key: str) -> ContactCipher:
        """The configured key; without one, a key derived from SECRET_KEY.

        The derived key is for development only: production refuses to start
        without CONTACT_ENCRYPTION_KEY (see casemgr.create_app).
        """
        if encryption_key:
            return cls(encryption_key)
        derived = hashlib.sha256(b"casemgr-contact:" + secret_key.encode()).digest()
        return cls(base64.urlsafe_b64encode(derived))

    def encrypt(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode("utf-8"))

    def decrypt(self, token: bytes) -> str:
        try:
            return self._fernet.decrypt(token).decode("utf-8")
        except InvalidToken:
            raise ValueError(
                "contact details cannot be decrypted with the configured key"
            ) from None

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode()
