"""The outbox's and notifications' forms need their CSRF token (switched on here)."""

import pytest

from tests.factories import PASSWORD


@pytest.fixture
def app_config(mail_config):
    return {**mail_config, "WTF_CSRF_ENABLED": True}


def csrf_login(client, user):
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    return client


@pytest.mark.parametrize(
    "path",
    ["/outbox/1/retry", "/outbox/1/confirm", "/outbox/1/cancel", "/notifications/read-all"],
)
def test_a_post_without_its_token_is_refused(client, supervisor, path):
    response = csrf_login(client, supervisor).post(path)
    assert response.status_code == 400


def test_the_pages_carry_the_token(client, analyst):
    # An analyst signs in with the password alone (no second factor required).
    csrf_login(client, analyst)
    assert 'name="csrf_token"' in client.get("/notifications/").get_data(as_text=True)
