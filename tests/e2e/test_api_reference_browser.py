"""The API reference in a real browser: Swagger UI draws every operation of
the OpenAPI document under the app's own Content-Security-Policy (no
violation, no error in the console) and nothing is fetched from another origin."""

from __future__ import annotations

import pytest

from casemgr.api.openapi import document
from tests.e2e.test_public_browser import browser, live_server, shot, shots  # noqa: F401
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

# Set up before any script of the page runs: every CSP violation, whatever reports it.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def _operations(app) -> int:
    with app.app_context():
        from casemgr import context

        paths = document(
            max_urls=context.setting("MAX_URLS_PER_SUBMISSION"),
            max_per_page=context.setting("API_MAX_PER_PAGE"),
            languages=context.setting("LANGUAGES"),
        )["paths"]
    return sum(1 for item in paths.values() for method in item if method in ("get", "post"))


def _note(message, problems: list[str]) -> None:
    # Browsers ask for /favicon.ico on their own (no page names one): its 404 is no problem.
    if message.location.get("url", "").endswith("/favicon.ico"):
        return
    if message.type in ("error", "warning"):
        problems.append(message.text)


def test_the_reference_draws_every_operation_from_this_origin(app, browser, live_server, shots):  # noqa: F811
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.add_init_script(RECORD_VIOLATIONS)
    requests: list[str] = []
    problems: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: _note(message, problems))
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(live_server + "/api-reference")
    page.wait_for_selector(".opblock-summary")
    expected = _operations(app)
    page.wait_for_function(f"document.querySelectorAll('.opblock').length >= {expected}")
    assert page.locator(".opblock").count() == expected
    assert page.get_by_text("/api/v1/cases/{case_id}/notes").first.is_visible()
    # An operation opens to its parameters and answers; no "Try it out" (a reference).
    page.locator(".opblock-summary").first.click()
    page.wait_for_selector(".opblock-body .responses-wrapper")
    assert page.locator("button.try-out__btn").count() == 0
    shot(page, shots / "api-reference.png")

    assert page.evaluate("window.__violations") == []
    assert problems == []
    assert requests and all(url.startswith(live_server + "/") for url in requests), requests
    context.close()


def test_staff_find_it_in_the_menu(app, make, browser, live_server):  # noqa: F811
    analyst = make.user("analyst")
    context = browser.new_context()
    page = context.new_page()
    page.goto(live_server + "/login")
    page.fill("input[name=email]", analyst.email)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    with page.expect_navigation():
        page.click("header nav >> text=API reference")
    assert page.url == live_server + "/api-reference"
    page.wait_for_selector(".opblock")
    context.close()
