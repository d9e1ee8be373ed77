"""Receipt codes: made, read back as typed, hashed. Pure Python, no database."""

from __future__ import annotations

import math

import pytest

from casemgr.reporter import codes

CHEAP = codes.ScryptParams(16, 1, 1)


def test_a_code_is_24_unambiguous_characters_with_80_secret_bits():
    code = codes.new_code()
    assert len(code) == 24 and set(code) <= set(codes.ALPHABET)
    assert not set("ILOU") & set(codes.ALPHABET)
    selector, verifier = codes.split(code)
    assert len(verifier) * math.log2(len(codes.ALPHABET)) >= 80
    # A selector of 40 bits: ten million receipts leave a fresh one free 99.999 % of the time.
    assert len(selector) * math.log2(len(codes.ALPHABET)) >= 40
    assert codes.grouped(code).count("-") == 5
    assert len({codes.new_code() for _ in range(1000)}) == 1000


def test_a_code_given_before_the_selector_grew_is_still_read():
    old = codes.normalise("7K3M-Q9XA-2BCD-EFGH-JKMN")
    assert codes.split(old) == ("7K3M", "Q9XA2BCDEFGHJKMN")
    assert codes.split(codes.normalise("7K3M-Q9XA-2BCD-EFGH-JKMN-PQRS")) == (
        "7K3MQ9XA",
        "2BCDEFGHJKMNPQRS",
    )


@pytest.mark.parametrize(
    "typed",
    [
        "7K3M-Q9XA-2BCD-EFGH-JKMN-PQRS",
        "7k3m q9xa 2bcd efgh jkmn pqrs",
        " 7K3MQ9XA2BCDEFGHJKMNPQRS\n",
        "7K3M–Q9XA—2BCD.EFGH_JKMN PQRS",
    ],
)
def test_what_a_person_types_is_read_as_the_code(typed):
    assert codes.normalise(typed) == "7K3MQ9XA2BCDEFGHJKMNPQRS"


def test_look_alikes_read_as_the_digit_they_resemble():
    assert codes.normalise("OOOO-IIII-LLLL-oooo-iill-OiLo") == "000011111111000011110110"


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("", codes.CodeProblem.EMPTY),
        (" - ", codes.CodeProblem.EMPTY),
        ("7K3M-Q9XA-2BCD", codes.CodeProblem.TOO_SHORT),
        ("7K3M-Q9XA-2BCD-EFGH-JKMN-P", codes.CodeProblem.TOO_SHORT),
        ("7K3M-Q9XA-2BCD-EFGH-JKMN-PQRS-T", codes.CodeProblem.TOO_LONG),
        ("X" * 1_000_000, codes.CodeProblem.TOO_LONG),
        ("7K3M-Q9XA-2BCD-EFGH-JKMN-PQR!", codes.CodeProblem.BAD_CHARACTERS),
        ("7K3M-Q9XA-2BCD-EFGH-JKMN-PQRU", codes.CodeProblem.BAD_CHARACTERS),
        ("\x00" * 24, codes.CodeProblem.BAD_CHARACTERS),
    ],
)
def test_what_cannot_be_a_code_is_refused_saying_why(typed, problem):
    with pytest.raises(codes.CodeRefused) as refused:
        codes.normalise(typed)
    assert refused.value.problem is problem


def test_the_verifier_is_stored_as_a_salted_scrypt_hash():
    stored = codes.hash_verifier("ABCDEFGHJKMNPQRS", CHEAP)
    again = codes.hash_verifier("ABCDEFGHJKMNPQRS", CHEAP)
    assert stored != again  # a salt of its own
    assert stored.startswith("scrypt$16$1$1$") and "ABCDEFGHJKMNPQRS" not in stored
    assert codes.verify(stored, "ABCDEFGHJKMNPQRS", CHEAP)
    assert not codes.verify(stored, "ABCDEFGHJKMNPQRT", CHEAP)
    assert not codes.verify(None, "ABCDEFGHJKMNPQRS", CHEAP)  # no such selector
    assert not codes.verify("damaged", "ABCDEFGHJKMNPQRS", CHEAP)


def test_the_default_cost_is_the_scrypt_papers_interactive_setting():
    params = codes.ScryptParams()
    assert (params.n, params.r, params.p) == (2**14, 8, 1)
    with pytest.raises(ValueError):
        codes.ScryptParams.from_config((1000, 8, 1))  # not a power of two
