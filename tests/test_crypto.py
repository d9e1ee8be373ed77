"""The contact cipher with several keys (casemgr/crypto.py) and the start-up
check of its settings: every key validated, a bad one named by its position,
never printed."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from casemgr import create_app
from casemgr.crypto import ContactCipher, key_id, previous_keys_setting


def test_the_newest_key_encrypts_and_every_key_decrypts():
    oldest, older, newest = (ContactCipher.generate_key() for _ in range(3))
    cipher = ContactCipher(newest, [older, oldest])
    under_oldest = ContactCipher(oldest).encrypt("a@example.org")
    under_older = ContactCipher(older).encrypt("b@example.org")

    assert cipher.decrypt(under_oldest) == "a@example.org"
    assert cipher.decrypt(under_older) == "b@example.org"
    fresh = cipher.encrypt("c@example.org")
    assert ContactCipher(newest).decrypt(fresh) == "c@example.org"
    assert [cipher.key_position(t) for t in (fresh, under_older, under_oldest)] == [0, 1, 2]
    assert cipher.key_position(ContactCipher(ContactCipher.generate_key()).encrypt("x")) is None
    assert ContactCipher(newest).decrypt(cipher.rotate(under_oldest)) == "a@example.org"
    assert cipher.key_ids == [key_id(newest), key_id(older), key_id(oldest)]


def test_a_value_under_no_key_is_an_error_without_the_value():
    cipher = ContactCipher(ContactCipher.generate_key())
    token = ContactCipher(ContactCipher.generate_key()).encrypt("secret@example.org")
    with pytest.raises(ValueError, match="cannot be decrypted with the configured keys"):
        cipher.decrypt(token)
    with pytest.raises(ValueError, match="cannot be decrypted"):
        cipher.rotate(token)


def test_key_ids_do_not_reveal_the_key():
    key = ContactCipher.generate_key()
    assert len(key_id(key)) == 12 and key_id(key) not in key
    assert key_id(key) == key_id(key.encode()) != key_id(ContactCipher.generate_key())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, []),
        ("", []),
        ([], []),
        ("k1", ["k1"]),
        ("k1, k2 ,", ["k1", "k2"]),  # the environment: commas
        (["k1 ", "k2"], ["k1", "k2"]),  # a list (instance/config.py, or JSON in the environment)
    ],
)
def test_previous_keys_setting(value, expected):
    assert previous_keys_setting(value) == expected


def test_the_previous_keys_come_from_the_environment(monkeypatch, tmp_path):
    old1, old2, new = (ContactCipher.generate_key() for _ in range(3))
    _production(monkeypatch, tmp_path, new)
    monkeypatch.setenv("CASEMGR_CONTACT_ENCRYPTION_PREVIOUS_KEYS", f"{old1},{old2}")
    cipher = create_app("production").extensions["casemgr.cipher"]
    assert cipher.key_ids == [key_id(new), key_id(old1), key_id(old2)]
    assert cipher.decrypt(ContactCipher(old2).encrypt("x")) == "x"

    monkeypatch.setenv("CASEMGR_CONTACT_ENCRYPTION_PREVIOUS_KEYS", f'["{old2}"]')  # JSON
    cipher = create_app("production").extensions["casemgr.cipher"]
    assert cipher.key_ids == [key_id(new), key_id(old2)]


BAD_KEYS = ["not-a-key", Fernet.generate_key().decode()[:-4], "x" * 44]


@pytest.mark.parametrize("bad", BAD_KEYS)
def test_production_refuses_a_bad_previous_key_naming_its_position(monkeypatch, tmp_path, bad):
    _production(monkeypatch, tmp_path, ContactCipher.generate_key())
    good = ContactCipher.generate_key()
    monkeypatch.setenv("CASEMGR_CONTACT_ENCRYPTION_PREVIOUS_KEYS", f"{good},{bad}")
    with pytest.raises(RuntimeError) as refused:
        create_app("production")
    message = str(refused.value)
    assert message.startswith("casemgr refuses to start: ")
    assert "CONTACT_ENCRYPTION_PREVIOUS_KEYS key 2 of 2 is not a contact-encryption key" in (
        message
    )
    assert bad not in message and good not in message


@pytest.mark.parametrize("bad", BAD_KEYS)
def test_production_refuses_a_bad_current_key_without_printing_it(monkeypatch, tmp_path, bad):
    _production(monkeypatch, tmp_path, bad)
    with pytest.raises(RuntimeError, match="CONTACT_ENCRYPTION_KEY is not a contact-") as refused:
        create_app("production")
    assert bad not in str(refused.value)


def test_any_app_refuses_a_bad_key(tmp_path):
    with pytest.raises(RuntimeError, match="PREVIOUS_KEYS key 1 of 1 is not"):
        create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}",
                "CONTACT_ENCRYPTION_PREVIOUS_KEYS": [12345],
            }
        )


def test_production_still_needs_the_current_key_with_previous_ones(monkeypatch, tmp_path):
    _production(monkeypatch, tmp_path, "")
    monkeypatch.setenv("CASEMGR_CONTACT_ENCRYPTION_PREVIOUS_KEYS", ContactCipher.generate_key())
    with pytest.raises(RuntimeError, match="CONTACT_ENCRYPTION_KEY is not set"):
        create_app("production")


def _production(monkeypatch, tmp_path, contact_key: str) -> None:
    from casemgr.audit.keys import generate_key

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("CASEMGR_SECRET_KEY", "a-long-random-value-for-this-test")
    monkeypatch.setenv("CASEMGR_AUDIT_KEY", generate_key())
    if contact_key:
        monkeypatch.setenv("CASEMGR_CONTACT_ENCRYPTION_KEY", contact_key)
    else:
        monkeypatch.delenv("CASEMGR_CONTACT_ENCRYPTION_KEY", raising=False)
