"""The queue in a real browser: compact rows on a laptop, no sideways scroll on
a phone, the keyboard, the copy button and filters that apply as chosen.

Debian's Chromium driven by Playwright, like test_public_browser.py (whose
fixtures this module shares).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.e2e.test_public_browser import CHROMIUM_ARGS, browser, live_server  # noqa: F401
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser
assert CHROMIUM_ARGS


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def busy(make, clock):
    """30 open cases with long URLs, a few on the same host, none assigned."""
    now = clock.now()
    for number in range(30):
        path = "/".join(
            ["gallery", f"{number:04d}", "a-rather-long-path-segment" * 2, "index.html"]
        )
        make.report(
            f"https://host{number % 7}.example.com/{path}", at=now - timedelta(hours=number)
        )
    return make.user("analyst")


def signed_in(browser, base, user, viewport):  # noqa: F811
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    problems: list[str] = []
    # A CSP violation shows as a console error; a missing file as a failed response
    # (browsers ask for /favicon.ico on their own: no page names it).
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "response",
        lambda r: (
            problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    page.goto(base + "/login")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return context, page, problems


def test_twenty_rows_fit_a_laptop_screen(browser, live_server, busy):  # noqa: F811
    context, page, problems = signed_in(browser, live_server, busy, {"width": 1366, "height": 768})
    page.goto(live_server + "/cases/")
    visible = page.evaluate(
        """() => [...document.querySelectorAll('table.queue tbody tr')]
              .filter(row => row.getBoundingClientRect().bottom <= window.innerHeight).length"""
    )
    assert visible >= 20
    heights = page.evaluate(
        "() => [...document.querySelectorAll('table.queue tbody tr')].map(r => r.offsetHeight)"
    )
    assert max(heights) < 32  # one line each
    # The host is whole; the rest of the URL shortened; the copy button shows with the script.
    head = page.locator("table.queue tbody tr .url-head").first
    assert re.fullmatch(r"host\d\.example\.com", head.inner_text())
    assert page.locator("button.copy").first.is_visible()
    assert problems == []
    context.close()


def test_no_sideways_scroll_on_a_phone(browser, live_server, busy):  # noqa: F811
    context, page, problems = signed_in(browser, live_server, busy, {"width": 390, "height": 844})
    for path in ("/cases/", "/cases/?group=host"):
        page.goto(live_server + path)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, (path, width)
    assert problems == []
    context.close()


def test_the_keyboard_on_the_queue_and_the_case_page(browser, live_server, busy):  # noqa: F811
    context, page, problems = signed_in(browser, live_server, busy, {"width": 1366, "height": 768})
    page.goto(live_server + "/cases/")
    rows = page.locator("table.queue tbody tr")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert "focused" in rows.nth(0).get_attribute("class")
    page.keyboard.press("j")
    page.keyboard.press("x")
    assert rows.nth(1).locator("input[name=case_ids]").is_checked()
    # Typing in the search box is typing, not shortcuts.
    page.click("input[name=q]")
    page.keyboard.type("jx")
    assert page.input_value("input[name=q]") == "jx"
    assert not rows.nth(2).locator("input[name=case_ids]").is_checked()
    page.locator("input[name=q]").blur()
    page.keyboard.press("?")
    assert page.locator("#shortcuts").is_visible()
    page.keyboard.press("Escape")
    assert not page.locator("#shortcuts").is_visible()
    # "o" opens the focused row's case; "j" there is the next case of the same queue.
    second = rows.nth(1).locator("[data-open]").inner_text()
    third = rows.nth(2).locator("[data-open]").inner_text()
    page.keyboard.press("o")
    page.wait_for_url(re.compile(r"/cases/\d+\?from="))
    assert second in page.inner_text("h1")
    with page.expect_navigation():  # load state alone may be the old page's, under load
        page.keyboard.press("j")
    assert third in page.inner_text("h1")
    page.keyboard.press("u")  # back to the queue, at that row
    page.wait_for_url(re.compile(r"/cases/\?view=open#case-\d+"))
    assert "focused" in rows.nth(2).get_attribute("class")
    assert problems == []
    context.close()


def test_t_takes_the_focused_row_and_select_all_on_the_page(browser, live_server, busy):  # noqa: F811
    context, page, problems = signed_in(browser, live_server, busy, {"width": 1366, "height": 768})
    page.goto(live_server + "/cases/")
    page.check("input.pick-page")
    assert page.locator("input[name=case_ids]:checked").count() == 30
    page.uncheck("input.pick-page")
    assert page.locator("input[name=case_ids]:checked").count() == 0
    assert page.locator("button[data-take]").count() == 30
    reference = page.locator("table.queue tbody tr").nth(1).locator("[data-open]").inner_text()
    page.keyboard.press("j")
    page.keyboard.press("j")
    with page.expect_navigation():
        page.keyboard.press("t")
    assert f"{reference} is yours now." in page.inner_text(".flash.success")
    assert page.url.endswith("#case-" + page.url.rsplit("-", 1)[-1])
    row = page.locator("table.queue tbody tr.focused")
    assert reference in row.inner_text() and row.locator("button[data-take]").count() == 0
    assert problems == []
    context.close()


def test_filters_apply_as_chosen(browser, live_server, busy):  # noqa: F811
    context, page, problems = signed_in(browser, live_server, busy, {"width": 1366, "height": 768})
    page.goto(live_server + "/cases/")
    with page.expect_navigation():
        page.select_option("select[name=group]", "host")
    assert "group=host" in page.url
    assert page.locator("table.groups tbody tr").count() == 7
    assert problems == []
    context.close()


def test_a_site_reported_ten_times_from_new_to_notice_pending(browser, live_server, make, clock):  # noqa: F811
    """Grouped by host, one tick takes the lot; the result page keeps them ticked
    for the assessment, then the notice."""
    analyst = make.user("analyst")
    provider = make.organisation("hosting_provider", name="Big Host Ltd")
    make.report(*(f"https://big.example.com/album/{n}" for n in range(10)))
    make.report("https://other.example.org/x")
    context, page, problems = signed_in(
        browser, live_server, analyst, {"width": 1366, "height": 768}
    )
    loads: list[str] = []
    page.on("load", lambda: loads.append(page.url))
    page.goto(live_server + "/cases/?group=host")
    page.check("input[name=group_keys][value='big.example.com']")
    page.select_option("select[name=action]", "take")
    page.click("button[name=scope][value=selected]")
    page.wait_for_load_state()
    page.wait_for_url(re.compile(r"/cases/bulk/result$"))
    assert "10 cases done" in page.inner_text(".bulk-counts")
    page.select_option("select[name=action]", "assess")
    assert page.locator("fieldset[data-for-action=assess]").is_visible()
    assert not page.locator("fieldset[data-for-action=request_notice]").is_visible()
    page.select_option("select[name=assess-classification]", "illegal_baseline")
    page.select_option("select[name=assess-media_type]", "image")
    page.select_option("select[name=assess-site_type]", "image_host")
    page.select_option("select[name=assess-hosting_country]", "KH")
    page.click("button[name=scope][value=selected]")
    page.wait_for_load_state()
    assert "10 cases done" in page.inner_text(".bulk-counts")
    page.select_option("select[name=action]", "request_notice")
    page.select_option("select[name=request_notice-provider_id]", str(provider.id))
    page.click("button[name=scope][value=selected]")
    page.wait_for_load_state()
    assert "10 cases done" in page.inner_text(".bulk-counts")
    assert page.locator("td.status", has_text="Notice queued").count() == 10
    assert len(loads) <= 4, loads
    assert problems == []
    context.close()
