"""The report form on a phone and on a laptop, in English and Khmer, with
JavaScript on and off, in a real Chromium: how tall it is, a checkbox beside
its label, and the error summary that takes the focus and links to the fields.

Heights are layout facts (the fonts are this site's own), asserted with a margin.
"""

from __future__ import annotations

import pytest

from tests.e2e.test_public_browser import browser, live_server  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}
# Screens a form may take down to its Send button, and the whole page with the
# hotline's contacts under it.
SCREENS = {"en": (2.0, 2.3), "km": (2.5, 2.8)}
SEND = {"en": "Send report", "km": "ផ្ញើរបាយការណ៍"}


@pytest.fixture
def app_config():
    return {
        "WTF_CSRF_ENABLED": True,
        "PUBLIC_REPORT_RATE_LIMIT": "1000 per minute",
        "PUBLIC_REPORT_FLOOD_LIMIT": "1000 per minute",
        "HOTLINE_NAME": "Internet Hotline Cambodia",
        "HOTLINE_PHONE": "+855 23 000 000",
        "HOTLINE_WEBSITE": "https://hotline.example.org.kh/",
        "HOTLINE_EMERGENCY": {
            "en": "In an emergency, call the police on 117 or Child Helpline Cambodia on 1280.",
            "km": "ក្នុងករណីបន្ទាន់ សូមទូរស័ព្ទទៅប៉ូលីសលេខ 117 ឬខ្សែទូរស័ព្ទជំនួយកុមារកម្ពុជាលេខ 1280។",
        },
    }


def _open(browser, base, viewport, language, javascript):  # noqa: F811
    context = browser.new_context(viewport=viewport, java_script_enabled=javascript)
    page = context.new_page()
    page.goto(f"{base}/report?lang={language}")
    if javascript:
        page.evaluate("document.fonts.ready.then(() => true)")
    else:
        page.wait_for_load_state("networkidle")
    return context, page


def _bottom(box) -> float:
    return box["y"] + box["height"]


CASES = [
    pytest.param(
        viewport, language, javascript, id=f"{name}-{language}-{'js' if javascript else 'nojs'}"
    )
    for name, viewport in (("phone", PHONE), ("laptop", LAPTOP))
    for language in ("en", "km")
    for javascript in (True, False)
]


@pytest.mark.parametrize(("viewport", "language", "javascript"), CASES)
def test_the_form_fits_and_the_checkbox_sits_with_its_label(
    browser,  # noqa: F811
    live_server,  # noqa: F811
    viewport,
    language,
    javascript,
):
    context, page = _open(browser, live_server, viewport, language, javascript)
    screen = viewport["height"]
    send = page.get_by_role("button", name=SEND[language]).bounding_box()
    height = page.evaluate("document.documentElement.scrollHeight")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"]  # nothing scrolls sideways
    if viewport is PHONE:
        to_send, whole = SCREENS[language]
        assert _bottom(send) <= to_send * screen
        assert height <= whole * screen
    else:
        assert _bottom(send) <= 2 * screen
    # The feedback checkbox and its label on one line, the label to its right.
    box = page.locator("input[name=feedback_requested]").bounding_box()
    label = page.locator("label[for=feedback_requested]").bounding_box()
    assert label["x"] >= box["x"] + box["width"]
    assert label["x"] - (box["x"] + box["width"]) < 24
    assert label["y"] < _bottom(box) and box["y"] < _bottom(label)
    # The hotline's contacts are at the foot.
    footer = page.locator("footer.public-contacts")
    assert "117" in footer.inner_text() and "+855 23 000 000" in footer.inner_text()
    context.close()


@pytest.mark.parametrize(
    ("viewport", "language", "javascript"),
    [case for case in CASES if case.values[0] is PHONE]
    + [pytest.param(LAPTOP, "en", False, id="laptop-en-nojs")],
)
def test_errors_are_summarised_on_top_focused_and_linked_to_their_fields(
    browser,  # noqa: F811
    live_server,  # noqa: F811
    viewport,
    language,
    javascript,
):
    context, page = _open(browser, live_server, viewport, language, javascript)
    page.fill("textarea[name=urls]", "ftp://example.com/x")
    page.check("input[name=feedback_requested]")
    with page.expect_navigation():
        page.get_by_role("button", name=SEND[language]).click()
    summary = page.locator("#error-summary")
    assert summary.is_visible()
    # On top: above the form and within the first screen.
    assert _bottom(summary.bounding_box()) < page.locator("form").bounding_box()["y"]
    assert page.evaluate("document.activeElement.id") == "error-summary"
    links = summary.locator("a")
    targets = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert targets == ["#urls", "#feedback_requested"]
    for index, target in enumerate(targets):
        links.nth(index).click()
        assert page.evaluate("document.activeElement.id") == target[1:]
    # What was typed is still there.
    assert page.input_value("textarea[name=urls]") == "ftp://example.com/x"
    context.close()
