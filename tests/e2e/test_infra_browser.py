"""Headless Chromium drives real pages; axe-core finds accessibility violations."""

import pytest

from tests.e2e.servers import format_violations, run_axe, static_http_server

pytestmark = pytest.mark.e2e

# A strict CSP like the helpdesk's: scripts only from files, never inline.
HEAD = """<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'self'">
<title>{title}</title>"""

BUTTON_PAGE = f"""<!doctype html><html lang="en"><head>{HEAD.format(title="Button")}
<script src="button.js" defer></script></head>
<body><main><h1>Demo</h1><button id="go" type="button">Go</button><p id="out">idle</p></main></body></html>"""
BUTTON_JS = """document.getElementById("go").addEventListener("click", () => {
  document.getElementById("out").textContent = "clicked";
});"""
CLEAN_PAGE = f"""<!doctype html><html lang="ru"><head>{HEAD.format(title="Заявки")}</head>
<body><main><h1>Заявки</h1><img src="logo.png" alt="Логотип службы поддержки"></main></body></html>"""
IMG_WITHOUT_ALT = f"""<!doctype html><html lang="en"><head>{HEAD.format(title="Broken")}</head>
<body><main><h1>Broken</h1><img src="logo.png"></main></body></html>"""


@pytest.fixture
def site(tmp_path):
    pages = {
        "button.html": BUTTON_PAGE,
        "button.js": BUTTON_JS,
        "clean.html": CLEAN_PAGE,
        "broken.html": IMG_WITHOUT_ALT,
    }
    root = tmp_path / "site"
    root.mkdir()
    for name, content in pages.items():
        (root / name).write_text(content)
    with static_http_server(root) as base_url:
        yield base_url


def test_click_changes_text_and_screenshot_is_written(page, site, tmp_path):
    page.goto(f"{site}/button.html")
    assert page.text_content("#out") == "idle"

    page.click("#go")

    assert page.text_content("#out") == "clicked"
    shot = tmp_path / "button.png"
    page.screenshot(path=str(shot))
    assert shot.read_bytes().startswith(b"\x89PNG")


def test_axe_reports_image_without_alt(page, site):
    page.goto(f"{site}/broken.html")

    violations = run_axe(page)

    assert [v["id"] for v in violations] == ["image-alt"], format_violations(violations)
    assert violations[0]["impact"] == "critical"
    assert violations[0]["nodes"][0]["target"] == ["img"]


def test_axe_passes_clean_page_under_strict_csp(page, site):
    page.goto(f"{site}/clean.html")

    violations = run_axe(page)

    assert violations == [], format_violations(violations)
    assert run_axe(page, impacts=("minor", "moderate", "serious", "critical")) == []
