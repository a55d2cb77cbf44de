"""The careers site as a job seeker sees it, in Debian's headless Chromium (driven by
Playwright with the system browser): the index filters by location, a job page at 390 px
has no horizontal scrolling, axe-core finds no serious or critical violation, and
screenshots (index and job page, desktop and 390 px) are saved to ``tests/artifacts/``
(``JOBPUB_UPDATE_SCREENSHOTS=1`` also copies them to ``docs/screenshots/`` for the README).

Needs ``/usr/bin/chromium`` (Debian's ``chromium``) and axe-core (``AXE_CORE_JS``: the
``axe.min.js`` that ``.ci/run`` installs with npm, never copied into the repository). Without
them the tests skip, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from publisher.adapter import FeedItem
from tests.adapters.helpers import adapter_for, example
from tests.factories import ROOT

CHROMIUM = Path(os.environ.get("JOBPUB_CHROMIUM", "/usr/bin/chromium"))
AXE = Path(os.environ.get("AXE_CORE_JS", "/nonexistent"))
ARTIFACTS = ROOT / "tests/artifacts"
BUILT = datetime(2026, 11, 26, 12, tzinfo=UTC)


def _need(what: str, present: bool) -> None:
    if present:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI=true: the browser tests must run, but {what} is missing")
    pytest.skip(f"{what} is missing")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The google board's files for the three example postings, as sync writes them."""
    out = tmp_path_factory.mktemp("site")
    items = [
        FeedItem.of(example(name), timedelta(days=30))
        for name in (
            "ecommerce-operations-manager",
            "remote-customer-support-specialist",
            "warehouse-associate",
        )
    ]
    for path, body in adapter_for("google").render_files(items, [], BUILT).items():
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        (out / path).write_bytes(body)
    return out


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _need(f"Chromium ({CHROMIUM})", CHROMIUM.exists())
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


def _open(browser: Any, url: str, width: int) -> Any:
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(url)
    return page


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("JOBPUB_UPDATE_SCREENSHOTS"):
        target = ROOT / "docs/screenshots"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target / path.name)


def test_the_index_filters_by_location(site: Path, browser: Any) -> None:
    page = _open(browser, (site / "index.html").as_uri(), 1280)
    assert page.locator("#jobs li:visible").count() == 3
    assert page.locator("#filters").is_visible()  # the script shows the filters
    page.select_option("select[name=location]", label="Denver, CO")
    visible = page.locator("#jobs li:visible h2").all_inner_texts()
    assert sorted(visible) == ["E-commerce Operations Manager", "Warehouse Associate"]
    assert page.inner_text("#count") == "2 open positions"
    page.select_option("select[name=location]", index=0)  # All
    assert page.locator("#jobs li:visible").count() == 3
    _shot(page, "index-desktop")
    phone = _open(browser, (site / "index.html").as_uri(), 390)
    _shot(phone, "index-390")


def test_a_job_page_fits_a_phone_and_reads_in_words(site: Path, browser: Any) -> None:
    url = (site / "jobs/remote-customer-support-specialist.html").as_uri()
    phone = _open(browser, url, 390)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    facts = phone.inner_text("dl.facts")
    assert "Remote (Colorado, Utah, Arizona, New Mexico)" in facts
    assert "TELECOMMUTE" not in phone.inner_text("body") and "Full-time" in facts
    assert phone.get_attribute("a.button", "href").startswith("https://")
    _shot(phone, "job-390")
    desktop = _open(browser, url, 1280)
    _shot(desktop, "job-desktop")


@pytest.mark.parametrize("path", ["index.html", "jobs/warehouse-associate.html"])
def test_axe_finds_no_serious_or_critical_violation(site: Path, browser: Any, path: str) -> None:
    _need(f"axe-core (AXE_CORE_JS={AXE})", AXE.exists())
    page = _open(browser, (site / path).as_uri(), 1280)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    bad = [
        (v["id"], v["impact"], len(v["nodes"]))
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], bad
