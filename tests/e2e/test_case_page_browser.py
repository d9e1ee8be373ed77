"""The case page in a real browser: take, assess and the suggested next step
without hunting for forms; no sideways scrolling on a 390 px phone; the staff
navigation on at most two lines at 1024 px.

Same set-up as test_public_browser.py (Debian's Chromium through Playwright,
the app served in a thread); screenshots go to build/screenshots/.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.test_public_browser import browser, live_server, shot, shots  # noqa: F401
from tests.factories import PASSWORD, totp_code

pytestmark = pytest.mark.browser

# On how many lines the header's text sits: a line box per text fragment, so a
# link whose words wrap counts twice.
HEADER_LINES = """() => {
  const middles = [];
  const walker = document.createTreeWalker(document.querySelector('.topbar'), NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    if (!walker.currentNode.textContent.trim()) continue;
    const range = document.createRange();
    range.selectNodeContents(walker.currentNode);
    for (const r of range.getClientRects()) if (r.width > 0) middles.push(r.top + r.height / 2);
  }
  middles.sort((a, b) => a - b);
  let lines = 0, first = -1e9;
  for (const middle of middles) if (middle - first > 12) { lines++; first = middle; }
  return lines;
}"""
SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def _signed_in(browser, base, user, *, width, height=900, problems):  # noqa: F811
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(base + "/login")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if "/login/code" in page.url:
        page.fill("input[name=code]", totp_code(user))
        page.get_by_role("button").first.click()
    page.wait_for_url(re.compile(r"/cases/"))
    return context, page


def test_take_assess_and_the_next_step_on_a_phone(
    browser,  # noqa: F811
    live_server,  # noqa: F811
    make,
    backend,
    shots,  # noqa: F811
):
    make.organisation("police", name="National Police", country="KH")
    make.organisation(name="Example Hosting", country="KH", domains="example.org")
    long_path = "/" + "/".join(["a-rather-long-path-segment"] * 8) + "?and=a&long=query"
    submission = make.report(
        "http://files.example.org" + long_path,
        # Long enough that the same-host list, unwrapped, is wider than a phone.
        *[f"http://files.example.org/{i}/gallery/album-{i}/page.html" for i in range(6)],
        seen_where="chat_app",
        language="km",
        feedback_requested=True,
        reporter_contact="reporter@example.net",
    ).submission
    case = submission.cases[0]
    analyst = make.user("analyst")
    problems: list[str] = []
    context, page = _signed_in(browser, live_server, analyst, width=390, problems=problems)

    page.goto(f"{live_server}/cases/{case.id}")
    assert page.evaluate(SIDEWAYS) <= 0
    shot(page, shots / f"case-new-390-{backend}.png")
    page.get_by_role("button", name="Take", exact=True).click()
    page.wait_for_load_state()
    assert "Taken: the case is now In triage." in page.inner_text("main")
    assert page.locator("details#action-assess").get_attribute("open") is not None

    # A failed assessment: back on the page with a summary, what was chosen kept.
    page.select_option("select[name=assess-classification]", "illegal_baseline")
    page.locator("details#action-assess button[type=submit]").click()
    page.wait_for_load_state()
    assert "Assess was not done" in page.inner_text(".error-summary")
    assert page.input_value("select[name=assess-classification]") == "illegal_baseline"
    assert page.input_value("select[name=assess-hosting_country]") == "KH"  # the directory's
    assert page.evaluate(SIDEWAYS) <= 0
    shot(page, shots / f"case-errors-390-{backend}.png")
    page.reload()  # a GET: nothing is sent again, the summary is gone
    assert page.locator(".error-summary").count() == 0

    # Failed again, then corrected on the form as it came back.
    page.select_option("select[name=assess-classification]", "illegal_baseline")
    page.locator("details#action-assess button[type=submit]").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="Media type: is required").click()
    assert page.evaluate("document.activeElement.name") == "assess-media_type"
    page.select_option("select[name=assess-media_type]", "image")
    page.select_option("select[name=assess-site_type]", "file_host")
    page.locator("details#action-assess button[type=submit]").click()
    page.wait_for_load_state()
    assert "Assessed: the case is now Action required." in page.inner_text("main")
    assert page.locator("details[open]").count() == 1
    assert page.locator("details#action-refer_to_police").get_attribute("open") is not None
    assert "6 other URLs in this report" in page.inner_text("main")
    assert "6 other open cases on files.example.org" in page.inner_text("main")
    assert page.evaluate(SIDEWAYS) <= 0
    shot(page, shots / f"case-next-390-{backend}.png")
    context.close()
    assert not [p for p in problems if "status of 4" not in p], problems


def test_the_navigation_at_1024_px(browser, live_server, make, backend, shots):  # noqa: F811
    admin = make.user("admin")
    case = make.case("new")
    problems: list[str] = []
    context, page = _signed_in(browser, live_server, admin, width=1024, problems=problems)
    page.goto(f"{live_server}/cases/{case.id}")
    assert page.evaluate(HEADER_LINES) <= 2
    assert page.evaluate(SIDEWAYS) <= 0
    shot(page, shots / f"case-1024-{backend}.png")
    context.close()
    assert not [p for p in problems if "status of 404" not in p], problems
