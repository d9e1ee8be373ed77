"""End to end, in a real browser: a new reporter, in English and in Khmer,
goes from the home page to a thank-you page with a reference, and the analyst
sees the new cases in the queue.

Debian's Chromium driven by Playwright (never `playwright install`), against
the app served by werkzeug on 127.0.0.1 in a thread. Screenshots go to
build/screenshots/ (or $SCREENSHOT_DIR) for a person to look at.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
REFERENCE = re.compile(r"CM-S-\d{4}-\d{6}")


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True, "PUBLIC_REPORT_RATE_LIMIT": "1000 per minute"}


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        pytest.skip("Debian's chromium is not installed (bin/test installs it as root)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"),
            args=CHROMIUM_ARGS,
        )
        yield browser
        browser.close()


@pytest.fixture
def shots(backend) -> Path:
    folder = Path(os.environ.get("SCREENSHOT_DIR", ROOT / "build" / "screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _page(browser, base: str, locale: str, requests: list[str], problems: list[str]):
    context = browser.new_context(locale=locale, viewport={"width": 1000, "height": 900})
    page = context.new_page()
    page.on("request", lambda request: requests.append(request.url))
    # A CSP violation (an inline style, a foreign asset) shows up as a console error.
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return context, page


def shot(page, path: Path) -> None:
    """A full-page screenshot once the web fonts (Noto Sans Khmer) are drawn."""
    page.evaluate("document.fonts.ready.then(() => true)")
    page.screenshot(path=path, full_page=True)


def _report(page, base, *, urls, button, expect_heading):
    page.fill("textarea[name=urls]", urls)
    page.select_option("select[name=seen_where]", "website")
    page.fill("textarea[name=description]", "A link in a group chat.")
    page.fill("input[name=contact]", "reporter@example.net")
    page.check("input[name=feedback_requested]")
    page.get_by_role("button", name=button).click()
    page.wait_for_url(re.compile(r"/report/thanks\?"))
    assert expect_heading in page.inner_text("h1")
    reference = page.inner_text("#reference")
    assert REFERENCE.fullmatch(reference.strip())
    return reference.strip()


def test_a_reporter_reports_in_english_and_in_khmer_and_the_analyst_sees_it(
    browser, live_server, make, backend, shots
):
    base = live_server
    known = make.case("triage", url="http://known.example.com/page")
    analyst = make.user("analyst")
    requests: list[str] = []
    problems: list[str] = []
    tag = backend

    # English, chosen by the browser's preference.
    context, page = _page(browser, base, "en-GB", requests, problems)
    page.goto(base + "/")
    page.get_by_role("link", name="Report a web address").click()
    page.wait_for_url(base + "/report")
    assert "Never download, copy, screenshot" in page.inner_text(".warning")
    shot(page, shots / f"form-en-{tag}.png")
    # A bad line first: nothing is sent, the text stays.
    page.fill("textarea[name=urls]", "http://en.example.com/one\nnot a url")
    page.get_by_role("button", name="Send report").click()
    assert "Line 2:" in page.inner_text("[role=alert]")
    assert "http://en.example.com/one" in page.input_value("textarea[name=urls]")
    shot(page, shots / f"form-errors-en-{tag}.png")
    english = _report(
        page,
        base,
        urls="http://en.example.com/one\nhttp://KNOWN.example.com/page\nen.example.com/two",
        button="Send report",
        expect_heading="Thank you",
    )
    assert "We received 3 web addresses." in page.inner_text("main")
    assert known.reference not in page.content()
    shot(page, shots / f"thanks-en-{tag}.png")
    context.close()

    # Khmer, chosen with the switch on the home page.
    context, page = _page(browser, base, "en-US", requests, problems)
    page.goto(base + "/")
    page.get_by_role("link", name="ខ្មែរ").click()
    page.wait_for_url(base + "/?lang=km")
    assert page.get_attribute("html", "lang") == "km"
    shot(page, shots / f"home-km-{tag}.png")
    page.get_by_role("link", name="រាយការណ៍អាសយដ្ឋានគេហទំព័រ").click()
    page.wait_for_url(base + "/report?lang=km")
    shot(page, shots / f"form-km-{tag}.png")
    page.fill("textarea[name=urls]", "ftp://km.example.com/x")
    page.get_by_role("button", name="ផ្ញើរបាយការណ៍").click()
    assert "បន្ទាត់ទី 1" in page.inner_text("[role=alert]")
    shot(page, shots / f"form-errors-km-{tag}.png")
    khmer = _report(
        page,
        base,
        urls="http://km.example.com/khmer",
        button="ផ្ញើរបាយការណ៍",
        expect_heading="សូមអរគុណ",
    )
    shot(page, shots / f"thanks-km-{tag}.png")
    # The Khmer text is drawn with the font this site serves.
    font = re.compile(r"/static/fonts/NotoSansKhmer-Regular-[\d.-]+\.woff2$")
    assert any(font.search(url) for url in requests)
    context.close()
    assert english != khmer

    # The analyst signs in and finds the new cases in the queue.
    context, page = _page(browser, base, "en-GB", requests, problems)
    page.goto(base + "/login")
    page.fill("input[name=email]", analyst.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/cases/"))
    # Each row shows its URL on one line, shortened; the whole URL is its title.
    shown = page.eval_on_selector_all(
        "table.queue .url-line", "lines => lines.map(line => line.title)"
    )
    for url in (
        "http://en.example.com/one",
        "http://en.example.com/two",
        "http://km.example.com/khmer",
    ):
        assert url in shown
    shot(page, shots / f"queue-{tag}.png")
    page.goto(base + "/cases/?view=all&q=" + english)
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 3
    assert "Duplicate" in page.inner_text("table.queue")  # the resolution, in plain words
    context.close()

    # No console errors (the forms' 4xx answers excepted), no CSP violation.
    assert not [p for p in problems if "status of 4" not in p], problems
    # Nothing was loaded from anywhere but this server.
    assert requests and all(url.startswith(base + "/") for url in requests), [
        url for url in requests if not url.startswith(base + "/")
    ]
