"""Fixtures of the API tests: tokens, and a client that checks every answer
against the OpenAPI document (tests/api/contract.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from casemgr import context
from casemgr.api import openapi
from casemgr.auth.models import User
from casemgr.auth.tokens import issue_token
from casemgr.extensions import db
from tests.api.contract import ApiClient


@pytest.fixture
def document(app) -> dict:
    return openapi.document(
        max_urls=app.config["MAX_URLS_PER_SUBMISSION"],
        max_per_page=app.config["API_MAX_PER_PAGE"],
        languages=app.config["LANGUAGES"],
    )


@pytest.fixture
def token_for(app) -> Callable[[User], str]:
    def make(user: User) -> str:
        token = issue_token(db.session, user, now=context.now(), label="tests")
        db.session.commit()
        return token

    return make


@pytest.fixture
def anonymous(client, document) -> ApiClient:
    return ApiClient(client, document)


@pytest.fixture
def as_analyst(anonymous, analyst, token_for) -> ApiClient:
    return anonymous.as_token(token_for(analyst))


@pytest.fixture
def as_supervisor(anonymous, supervisor, token_for) -> ApiClient:
    return anonymous.as_token(token_for(supervisor))


@pytest.fixture
def as_admin(anonymous, admin, token_for) -> ApiClient:
    return anonymous.as_token(token_for(admin))
