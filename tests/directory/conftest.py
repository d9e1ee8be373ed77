"""The organisations API tests use the API's test client and tokens (tests/api/conftest.py)."""

from tests.api.conftest import (  # noqa: F401 - fixtures
    anonymous,
    as_admin,
    as_analyst,
    as_supervisor,
    document,
    token_for,
)
