"""Behind TLS, in a real browser: an analyst signs in, takes a case, assesses
it and signs out over HTTPS, with the production cookie (Secure, __Host-)
and CSRF on; a copy of the session cookie kept from before the sign-out is
refused afterwards.

The app is served over HTTPS by werkzeug in a thread with a certificate made
for the test (the scheme the app sees is https, as behind nginx with
X-Forwarded-Proto); Debian's Chromium through Playwright.
"""

from __future__ import annotations

import re
import threading

import pytest
from werkzeug.serving import generate_adhoc_ssl_context, make_server

from tests.e2e.test_public_browser import browser, shot, shots  # noqa: F401
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

COOKIE = "__Host-casemgr_session"


@pytest.fixture
def app_config():
    return {
        "WTF_CSRF_ENABLED": True,
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_NAME": COOKIE,
    }


@pytest.fixture
def https_server(app):
    server = make_server(
        "127.0.0.1", 0, app, threaded=True, ssl_context=generate_adhoc_ssl_context()
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_sign_in_work_a_case_and_sign_out_over_https(
    browser,  # noqa: F811
    https_server,
    make,
    backend,
    shots,  # noqa: F811
):
    base = https_server
    make.organisation(name="Example Hosting", country="KH", domains="example.org")
    case = make.case("new", url="http://files.example.org/gallery/1.html")
    analyst = make.user("analyst")
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 1200, "height": 900})
    page = context.new_page()
    posts: list[dict[str, str]] = []
    page.on(
        "request",
        lambda request: posts.append(request.headers) if request.method == "POST" else None,
    )

    page.goto(base + "/login")
    page.fill("input[name=email]", analyst.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/cases/"))
    cookie = next(c for c in context.cookies() if c["name"] == COOKIE)
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    page.goto(f"{base}/cases/{case.id}")
    page.get_by_role("button", name="Take", exact=True).click()
    page.wait_for_load_state()
    assert "Taken: the case is now In triage." in page.inner_text("main")
    page.select_option("select[name=assess-classification]", "illegal_baseline")
    page.select_option("select[name=assess-media_type]", "image")
    page.select_option("select[name=assess-site_type]", "file_host")
    page.select_option("select[name=assess-hosting_country]", "KH")
    page.locator("details#action-assess button[type=submit]").click()
    page.wait_for_load_state()
    assert "Assessed: the case is now Action required." in page.inner_text("main")
    shot(page, shots / f"https-assessed-{backend}.png")

    # Every form went out with this site's Origin (the page says same-origin)
    # and no Referer check stood in the way.
    assert len(posts) == 3
    assert all(headers.get("origin") == base for headers in posts), posts

    kept = [dict(c) for c in context.cookies() if c["name"] == COOKIE]
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/login"))
    assert len(posts) == 4 and posts[-1].get("origin") == base
    page.goto(f"{base}/cases/")
    assert "/login" in page.url
    context.close()

    # The cookie copied before the sign-out opens nothing afterwards.
    thief = browser.new_context(ignore_https_errors=True)
    thief.add_cookies(kept)
    stolen = thief.new_page()
    stolen.goto(f"{base}/cases/{case.id}")
    assert "/login" in stolen.url
    assert "files.example.org" not in stolen.content()
    thief.close()
