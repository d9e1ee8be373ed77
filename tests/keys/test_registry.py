"""The registry of encrypted columns (casemgr/keys/registry.py) knows every
binary column: one that holds ciphertext and is missing from it would stay
under an old key through a rotation, and be lost with that key."""

from __future__ import annotations

from sqlalchemy import LargeBinary

import casemgr.models  # noqa: F401 - every model in the metadata
from casemgr.extensions import db
from casemgr.keys.registry import ENCRYPTED_COLUMNS

# Binary columns that hold no value encrypted with the contact key.
NOT_ENCRYPTED = {
    "notices.pdf",  # the letter as sent (its SHA-256 proves it)
    "monthly_reports.pdf",
    "organisation_networks.first",  # an address range's ends
    "organisation_networks.last",
}


def binary_columns() -> set[str]:
    return {
        f"{table.name}.{column.name}"
        for table in db.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, LargeBinary)
    }


def test_every_binary_column_is_encrypted_and_registered_or_known_plain():
    registered = {target.name for target in ENCRYPTED_COLUMNS}
    unknown = binary_columns() - registered - NOT_ENCRYPTED
    assert unknown == set(), (
        "a new binary column: if it holds values encrypted with context.cipher(), add "
        "EncryptedColumn(Model, 'column') to ENCRYPTED_COLUMNS in casemgr/keys/registry.py; "
        "otherwise add it to NOT_ENCRYPTED here"
    )


def test_every_registered_column_exists_and_has_a_one_column_key():
    tables = {table.name: table for table in db.metadata.sorted_tables}
    for target in ENCRYPTED_COLUMNS:
        assert target.column is tables[target.model.__tablename__].c[target.attribute]
        assert target.primary_key.primary_key
    assert len({target.name for target in ENCRYPTED_COLUMNS}) == len(ENCRYPTED_COLUMNS)
