"""Feed and page boards through the engine: written once per sync, byte-identical when
nothing changed, build date = last change; Indexing API announcements within the quota."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
import respx

from tests.adapters.test_google import _service_account
from tests.engine.world import World

TODAY = date(2026, 11, 26)
FEEDS = {"indeed_feed": {}, "google": {}}


async def test_unchanged_feeds_stay_byte_identical(world: World) -> None:
    world.write(publish_at=TODAY, boards=FEEDS)
    first = await world.sync()
    assert first.written == {
        "google": [
            "assets/filter.js",
            "assets/site.css",
            "index.html",
            "jobs.atom",
            "jobs/data-analyst.html",
            "sitemap.xml",
        ],
        "indeed_feed": ["feeds/indeed.xml"],
    }
    feed = world.out / "feeds/indeed.xml"
    before, stamp = feed.read_bytes(), feed.stat().st_mtime_ns
    built = ElementTree.fromstring(before).findtext("lastBuildDate")
    assert built == "Thu, 26 Nov 2026 12:00:00 GMT"  # the time of the post

    world.clock.advance(hours=5)
    again = await world.sync()
    assert again.written == {} and again.outcomes == []
    assert feed.read_bytes() == before and feed.stat().st_mtime_ns == stamp

    world.write("later", publish_at=date(2026, 12, 20), boards=FEEDS)  # for later: no change
    planned = await world.sync()
    assert planned.written == {} and feed.read_bytes() == before
    assert world.listing("later", board="indeed_feed").state == "scheduled"
    (world.postings / "later.yaml").unlink()

    world.write(publish_at=TODAY, boards=FEEDS, title="Senior Data Analyst")
    edited = await world.sync()
    assert edited.written["indeed_feed"] == ["feeds/indeed.xml"]
    root = ElementTree.fromstring(feed.read_bytes())
    assert root.findtext("lastBuildDate") == "Thu, 26 Nov 2026 17:00:00 GMT"
    assert root.findtext("job/title") == "Senior Data Analyst"


async def test_feed_refresh_moves_the_updated_date(world: World) -> None:
    world.write(publish_at=TODAY, expires_at=date(2027, 3, 31), boards={"jooble_feed": {}})
    world.config.boards["jooble_feed"] = {
        "job_url": "https://jobs.example.com/{id}",
        "output_dir": str(world.out),
    }
    await world.sync()
    world.clock.advance(days=30)
    refreshed = await world.sync()
    assert world.actions(refreshed) == [("data-analyst", "jooble_feed", "refresh", "done")]
    job = ElementTree.fromstring((world.out / "feeds/jooble.xml").read_bytes()).find("job")
    assert job is not None
    assert (job.findtext("pubdate"), job.findtext("updated")) == ("26.11.2026", "26.12.2026")


@pytest.fixture
def indexing(
    world: World, http: respx.MockRouter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> respx.Route:
    monkeypatch.setenv("GOOGLE_SA", str(_service_account(tmp_path)))
    world.config.boards["google"].update(indexing=True, service_account_env="GOOGLE_SA")
    http.post("https://oauth2.googleapis.com/token").mock(
        return_value=httpx.Response(200, json={"access_token": "ya29.test", "expires_in": 3600})
    )
    return http.post("https://indexing.googleapis.com/v3/urlNotifications:publish").mock(
        return_value=httpx.Response(200, json={})
    )


async def test_indexing_quota_is_counted_per_pacific_day(
    world: World, indexing: respx.Route
) -> None:
    world.ledger.use_quota("google", "2026-11-26", 199)  # 1 call left today (Pacific)
    world.write("one", publish_at=TODAY, boards={"google": {}})
    world.write("two", publish_at=TODAY, boards={"google": {}})
    result = await world.sync()
    assert indexing.call_count == 1
    assert "google: 1 page change(s) announced, 1 wait for quota" in result.notes
    assert world.ledger.quota_used("google", "2026-11-26") == 200

    world.clock.advance(hours=6)  # 18:00 UTC = 10:00 Pacific: still the same quota day
    assert "today's quota of 200" in " ".join((await world.sync()).notes)
    assert indexing.call_count == 1

    world.clock.now = datetime.fromisoformat("2026-11-27T08:00:00+00:00")  # 00:00 Pacific
    await world.sync()
    assert indexing.call_count == 2
    sent = [json.loads(c.request.content) for c in indexing.calls]
    assert sent == [
        {"url": "https://jobs.example.com/one.html", "type": "URL_UPDATED"},
        {"url": "https://jobs.example.com/two.html", "type": "URL_UPDATED"},
    ]
    assert world.ledger.quota_used("google", "2026-11-27") == 1
    assert (await world.sync()).notes == []  # nothing left to announce


async def test_expired_page_is_announced_as_deleted(world: World, indexing: respx.Route) -> None:
    path = world.write(publish_at=TODAY, boards={"google": {}})
    await world.sync()
    path.unlink()
    await world.sync()
    assert [json.loads(c.request.content)["type"] for c in indexing.calls] == [
        "URL_UPDATED",
        "URL_DELETED",
    ]
    assert [(e.action, e.detail) for e in world.ledger.history("data-analyst")][-1] == (
        "expire",
        "announced (removed)",
    )


async def test_feed_and_page_boards_open_no_http_client(world: World) -> None:
    world.write(publish_at=TODAY, boards=FEEDS)
    engine = world.engine()
    await engine.sync([world.postings])
    assert engine.clients._clients == {}  # made on first use only (indexing is off)
    await engine.aclose()


async def test_preview_prints_what_sync_wrote_with_local_dates(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import re

    from click.testing import CliRunner

    import publisher.engine_cli  # noqa: F401  (registers the engine's commands)
    from publisher.cli import cli

    monkeypatch.setattr("publisher.clock.now", world.clock)  # preview judges dates by it
    path = world.write(publish_at=TODAY, expires_at=date(2027, 5, 31), boards=FEEDS)
    await world.sync()

    def preview(board: str) -> str:
        result = CliRunner().invoke(
            cli, ["--config", str(world.config_path), "preview", str(path), "--board", board]
        )
        assert result.exit_code == 0, result.output
        return result.output

    page = preview("google")
    assert page == (world.out / "jobs/data-analyst.html").read_text()
    assert "<dt>Applications close</dt><dd>May 31, 2027</dd>" in page  # Denver's day, not UTC's
    assert '"validThrough": "2027-05-31T23:59:59-06:00"' in page
    job = re.compile(r"<job>.*?</job>", re.S)
    written = (world.out / "feeds/indeed.xml").read_text()
    assert job.findall(preview("indeed_feed")) == job.findall(written)
    assert "<date><![CDATA[2026-11-26T05:00:00-07:00]]></date>" in written  # posted, Denver


def test_jooble_dates_are_the_postings_days() -> None:
    from publisher.adapter import FeedItem
    from tests.adapters.helpers import adapter_for
    from tests.factories import make_posting

    posting = make_posting(expires_at=date(2027, 5, 31), timezone="America/Denver")
    item = FeedItem(
        posting, datetime.fromisoformat("2026-12-01T03:00:00+00:00"), posting.expiry_time()
    )
    (content,) = adapter_for("jooble_feed").render_files([item], [], item.posted_at).values()
    assert b"<expire><![CDATA[31.05.2027]]></expire>" in content
    assert b"<pubdate><![CDATA[30.11.2026]]></pubdate>" in content  # 20:00 in Denver


async def test_a_board_is_rendered_only_when_what_it_shows_changed(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import publisher.engine
    from publisher.pages import write_board_files

    rendered: list[str] = []

    def counting(adapter: Any, rows: Any, postings: Any) -> Any:
        rendered.append(adapter.name)
        return write_board_files(adapter, rows, postings)

    monkeypatch.setattr(publisher.engine, "write_board_files", counting)
    world.write(publish_at=TODAY, boards=FEEDS)
    await world.sync()
    assert sorted(rendered) == ["google", "indeed_feed"]

    rendered.clear()
    world.clock.advance(hours=1)
    await world.sync()  # nothing changed: nothing rendered, nothing read
    world.write("later", publish_at=date(2026, 12, 20), boards=FEEDS)
    await world.sync()  # scheduled for later: no file shows it yet
    assert rendered == []

    (world.out / "feeds/indeed.xml").unlink()  # someone cleaned the folder
    await world.sync()
    assert rendered == ["indeed_feed"] and (world.out / "feeds/indeed.xml").exists()

    rendered.clear()
    world.write(publish_at=TODAY, boards=FEEDS, title="Senior Data Analyst")
    await world.sync()
    assert sorted(rendered) == ["google", "indeed_feed"]

    rendered.clear()
    world.config = world.config.model_copy(update={"timezone": "Europe/Berlin"})
    await world.sync()  # the configuration is part of what the files are made of
    assert sorted(rendered) == ["google", "indeed_feed"]
    rendered.clear()
    await world.sync()
    assert rendered == []


def test_descriptions_are_rendered_once_and_kept_by_content_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from publisher import render

    markdown = "## Duties\n\n- Build *dashboards*\n"
    render.cache_in(tmp_path / "cache")
    try:
        first = render.markdown_html(markdown)
        render.flush_cache()
        render._CACHE.clear()  # a new process: only the cache folder is left

        def no_rendering() -> Any:
            raise AssertionError("rendered again")

        monkeypatch.setattr(render, "_md", no_rendering)
        assert (
            render.markdown_html(markdown)
            == first
            == "<h2>Duties</h2>\n<ul>\n<li>Build <em>dashboards</em></li>\n</ul>\n"
        )
        with pytest.raises(AssertionError, match="rendered again"):
            render.markdown_html(markdown + "- and reports\n")  # new content is rendered
        (tmp_path / "cache/html.sqlite3").write_bytes(b"not a database")
        render.cache_in(tmp_path / "cache")  # a broken cache is no cache, never an error
        monkeypatch.undo()
        render._CACHE.clear()
        assert render.markdown_html(markdown) == first
        render.flush_cache()
    finally:
        render.cache_in(None)
