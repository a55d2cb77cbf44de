"""``jobpub serve`` in Debian's headless Chromium (Playwright, system browser), served by
uvicorn on 127.0.0.1: log in, create a posting from the blank template, see its
``placeholder`` problem at its line, fix it, save, schedule it, see it scheduled on the
dashboard; with approval required, a recruiter's edit waits and an approver sees its diff and
approves it; axe-core on the login, dashboard, editor and change pages; screenshots
(``JOBPUB_UPDATE_SCREENSHOTS=1`` copies them to ``docs/screenshots/``).
Skipped without Chromium or axe-core, except under ``CI=true``, where that fails."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.factories import ROOT, posting_text
from tests.test_careers_browser import ARTIFACTS, AXE, CHROMIUM, _need

PASSWORD = "correct horse battery staple"
pytestmark = pytest.mark.usefixtures("fake_today")


@pytest.fixture
def served(tmp_path: Path, request: Any) -> Iterator[str]:
    import uvicorn

    from publisher.config import load_config
    from publisher.database import connect
    from publisher.web.app import create_app
    from publisher.web.auth import Users, add_user

    (tmp_path / "postings").mkdir()
    (tmp_path / "jobpub.toml").write_text(
        f'ledger = "sqlite:///{tmp_path}/ledger.db"\npostings_dir = "{tmp_path}/postings"\n'
        '[company]\nname = "Example Corp"\n[boards.indeed_feed]\n'
        'job_url = "https://jobs.example.com/{id}"\n' + getattr(request, "param", "")
    )
    connect(f"sqlite:///{tmp_path}/ledger.db").dispose()
    add_user(tmp_path / "users.toml", "ana", "recruiter", PASSWORD)
    add_user(tmp_path / "users.toml", "bob", "approver", PASSWORD)
    app = create_app(load_config(tmp_path / "jobpub.toml"), Users(tmp_path / "users.toml"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    import os

    if os.environ.get("JOBPUB_UPDATE_SCREENSHOTS"):
        (ROOT / "docs/screenshots").mkdir(parents=True, exist_ok=True)
        shutil.copy(path, ROOT / "docs/screenshots" / path.name)


def _axe(page: Any) -> list[tuple[str, str]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        (v["id"], v["impact"])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def _browser(playwright: Any) -> Any:
    _need(f"Chromium ({CHROMIUM})", CHROMIUM.exists())
    _need(f"axe-core ({AXE})", AXE.exists())
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
    )


def _log_in(browser: Any, served: str, name: str) -> Any:
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(f"{served}/")
    assert page.url.endswith("/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(f"{served}/")
    return page


def test_create_fix_schedule_and_see_it_on_the_dashboard(served: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = _browser(playwright)
        login = browser.new_page()
        login.goto(f"{served}/login")
        assert _axe(login) == []
        page = _log_in(browser, served, "ana")
        assert _axe(page) == []
        page.fill("input[name=id]", "data-analyst")
        page.click("button:has-text('Create')")
        page.wait_for_url("**/postings/data-analyst/edit")
        problems = page.inner_text("#problems")
        assert "error placeholder" in problems and "line " in problems
        first = page.locator("#problems .error .goto").first
        line = int(first.get_attribute("data-line") or 0)
        first.click()  # selects that line in the editor
        selected = page.evaluate(
            "(() => { const t = document.getElementById('text'); return "
            "t.value.slice(t.selectionStart, t.selectionEnd); })()"
        )
        assert selected == page.input_value("#text").split("\n")[line - 1] != ""
        assert _axe(page) == []
        _shot(page, "web-editor")
        page.fill("#text", posting_text())  # the fix: a complete posting
        page.wait_for_function(  # live validation: the errors are gone (warnings may stay)
            "!document.getElementById('problems').innerText.includes('error')"
        )
        page.click("#editor button")
        page.wait_for_selector(".notice:has-text('saved')")
        page.fill("input[name=publish_at]", "2026-12-15")
        page.click("button:has-text('Schedule')")
        page.wait_for_url(f"{served}/")
        assert "scheduled for 2026-12-15" in page.inner_text("#files")
        _shot(page, "web-dashboard")
        browser.close()


@pytest.mark.parametrize("served", ["[web]\nrequire_approval = true\n"], indirect=True)
def test_a_change_waits_and_the_approver_sees_what_it_changes(served: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    (tmp_path / "postings/data-analyst.yaml").write_text(posting_text())
    with sync_playwright() as playwright:
        browser = _browser(playwright)
        ana = _log_in(browser, served, "ana")
        ana.goto(f"{served}/postings/data-analyst/edit")
        ana.fill("#text", posting_text().replace("title: Data Analyst", "title: Lead Data Analyst"))
        ana.click("#editor button")
        ana.wait_for_url("**/changes/1")
        assert "your change waits for an approver" in ana.inner_text("[role=status]")
        bob = _log_in(browser, served, "bob")
        assert "Edit of data-analyst by ana" in bob.inner_text("#waiting")
        bob.click("#waiting a")
        bob.wait_for_url("**/changes/1")
        assert "+title: Lead Data Analyst" in bob.inner_text(".diff")
        assert _axe(bob) == []
        _shot(bob, "web-change")
        bob.click("button:has-text('Approve')")
        bob.wait_for_url("**/postings/data-analyst")
        assert "approved by bob" in bob.inner_text("#changes")
        browser.close()
    assert "title: Lead Data Analyst" in (tmp_path / "postings/data-analyst.yaml").read_text()
