"""A listing's life on an API board: scheduled -> live -> refreshed -> expired, on time."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from publisher.errors import PublisherError
from publisher.planner import Action
from tests.engine.world import World

#: A posting without expires_at, in Utah: no law there asks for the close date in the ad (in
#: Colorado one does, and validate would hold the posting back).
UTAH = [{"city": "Salt Lake City", "region": "UT", "country": "US", "postal_code": "84101"}]


async def test_scheduled_live_refreshed_expired_on_time(world: World) -> None:
    world.write()  # publish 2026-11-27 (Denver), expires 2026-12-31, refresh every 7 days

    first = await world.sync()
    assert first.outcomes == [] and world.board.calls == []
    assert world.listing().state == "scheduled"
    assert [(a.action, a.due.isoformat()) for a in first.upcoming] == [
        ("post", "2026-11-27T00:00:00-07:00")
    ]

    world.clock.now = datetime.fromisoformat("2026-11-27T07:00:00+00:00")
    posted = await world.sync()
    assert world.actions(posted) == [("data-analyst", "fakeboard", "post", "done")]
    listing = world.listing()
    assert (listing.state, listing.board_id, listing.url) == (
        "live",
        "1001",
        "https://fakeboard.test/jobs/1001",
    )
    assert listing.posted_at == world.clock.now
    assert listing.expires_at == datetime.fromisoformat("2026-12-31T23:59:59-07:00")
    assert [j["title"] for j in world.board.live()] == ["Data Analyst"]

    assert (await world.sync()).outcomes == []  # nothing more is due
    world.clock.advance(days=6, hours=23)
    assert (await world.sync()).outcomes == []  # not yet a week

    world.clock.advance(hours=1)
    refreshed = await world.sync()
    assert world.actions(refreshed) == [("data-analyst", "fakeboard", "refresh", "done")]
    assert world.board.jobs["1001"]["refreshed"] == 1
    assert world.listing().refresh_count == 1

    world.clock.advance(days=7)
    await world.sync()
    world.clock.advance(days=7)
    assert (await world.sync()).outcomes == []  # max_refreshes (2) reached
    assert world.board.jobs["1001"]["refreshed"] == 2

    world.clock.now = datetime.fromisoformat("2027-01-01T06:59:58+00:00")  # 23:59:58 local
    assert (await world.sync()).outcomes == []
    world.clock.advance(seconds=1)
    expired = await world.sync()
    assert world.actions(expired) == [("data-analyst", "fakeboard", "expire", "done")]
    assert world.board.live() == [] and world.listing().state == "expired"
    assert (await world.sync()).outcomes == []
    assert [(m, p) for m, p in world.board.calls] == [
        ("POST", "/v1/jobs"),
        ("POST", "/v1/jobs/1001/refresh"),
        ("POST", "/v1/jobs/1001/refresh"),
        ("DELETE", "/v1/jobs/1001"),
    ]
    history = [(e.action, e.outcome) for e in world.ledger.history("data-analyst")]
    assert history == [("post", "ok"), ("refresh", "ok"), ("refresh", "ok"), ("expire", "ok")]


async def test_without_expiry_default_duration_days_ends_it_on_every_board(world: World) -> None:
    world.config = world.config.model_copy(update={"default_duration_days": 40})
    boards = {"fakeboard": {}, "google": {}, "jooble_feed": {}}
    world.config.boards["jooble_feed"] = {
        "job_url": "https://jobs.example.com/{id}.html",
        "output_dir": str(world.out),
    }
    world.write(publish_at=date(2026, 11, 26), expires_at=None, boards=boards, locations=UTAH)
    await world.sync()
    end = world.clock.now.replace(year=2027, month=1, day=5)  # 40 days on
    assert {world.listing(board=b).expires_at for b in boards} == {end}
    engine = world.engine()
    upcoming = [
        a for a in engine.plan(engine.load([world.postings], write=False)) if a.action == "expire"
    ]
    await engine.aclose()
    assert {(a.board, a.due, a.reason) for a in upcoming} == {
        (b, end, "default_duration_days (40 days without expires_at)") for b in boards
    }
    world.clock.advance(days=40)
    result = await world.sync()
    assert sorted(world.actions(result)) == [
        ("data-analyst", b, "expire", "done") for b in sorted(boards)
    ]


async def test_edit_produces_one_update(world: World) -> None:
    world.write(publish_at=date(2026, 11, 26))
    await world.sync()
    world.write(publish_at=date(2026, 11, 26), title="Senior Data Analyst")
    result = await world.sync()
    assert world.actions(result) == [("data-analyst", "fakeboard", "update", "done")]
    assert world.board.jobs["1001"]["title"] == "Senior Data Analyst"
    assert world.listing().revision == 2
    assert (await world.sync()).outcomes == []
    assert world.board.calls == [("POST", "/v1/jobs"), ("PUT", "/v1/jobs/1001")]


async def test_deleting_the_file_expires_it_everywhere(world: World) -> None:
    path = world.write(
        publish_at=date(2026, 11, 26), boards={"fakeboard": {}, "google": {}, "indeed_feed": {}}
    )
    await world.sync()
    assert (world.out / "jobs/data-analyst.html").exists()
    assert b"data-analyst" in (world.out / "feeds/indeed.xml").read_bytes()

    path.unlink()
    result = await world.sync()
    assert world.actions(result) == [
        ("data-analyst", "fakeboard", "expire", "done"),
        ("data-analyst", "google", "expire", "done"),
        ("data-analyst", "indeed_feed", "expire", "done"),
    ]
    assert {r.state for r in world.ledger.listings("data-analyst")} == {"expired"}
    assert world.board.live() == []
    assert b"noindex" in (world.out / "jobs/data-analyst.html").read_bytes()
    assert b"data-analyst" not in (world.out / "sitemap.xml").read_bytes()
    assert b"data-analyst" not in (world.out / "feeds/indeed.xml").read_bytes()
    assert [a.reason for a in world.engine().plan(world.engine().load([world.postings]))] == []


async def test_closing_or_dropping_a_board_expires_there(world: World) -> None:
    world.write(publish_at=date(2026, 11, 26), boards={"fakeboard": {}, "indeed_feed": {}})
    await world.sync()
    world.write(publish_at=date(2026, 11, 26), boards={"indeed_feed": {}})
    dropped = await world.sync()
    assert world.actions(dropped) == [("data-analyst", "fakeboard", "expire", "done")]
    assert world.listing(board="indeed_feed").state == "live"

    world.write(publish_at=date(2026, 11, 26), boards={"indeed_feed": {}}, status="closed")
    closed = await world.sync()
    assert world.actions(closed) == [("data-analyst", "indeed_feed", "expire", "done")]


async def test_invalid_posting_is_never_published_and_live_listings_stay(world: World) -> None:
    world.write("never", publish_at=date(2026, 11, 26), title="")  # empty title: invalid
    world.write(publish_at=date(2026, 11, 26))
    await world.sync()
    world.write(
        publish_at=date(2026, 11, 26),
        salary={"min": 9, "max": 1, "currency": "USD", "period": "year"},
    )
    result = await world.sync()
    assert result.outcomes == []
    assert {f.rule for f in result.findings if f.severity == "error"} >= {"salary", "schema"}
    assert world.listing().state == "live" and len(world.board.live()) == 1
    assert world.ledger.listings("never") == []


async def test_invalid_posting_still_expires_on_its_last_valid_date(world: World) -> None:
    world.write(publish_at=date(2026, 11, 26), expires_at=date(2026, 11, 30))
    await world.sync()
    world.write(publish_at=date(2026, 11, 26), expires_at=date(2026, 11, 30), title="")
    assert (await world.sync()).outcomes == []
    world.clock.now = datetime.fromisoformat("2026-12-01T07:00:00+00:00")  # 00:00 Denver
    result = await world.sync()
    assert world.actions(result) == [("data-analyst", "fakeboard", "expire", "done")]
    assert {f.rule for f in result.findings} >= {"schema"} and world.board.live() == []


async def test_plan_lists_actions_with_reasons_and_writes_nothing(world: World) -> None:
    world.write(publish_at=date(2026, 11, 26))
    world.write("later")
    engine = world.engine()
    actions = engine.plan(engine.load([world.postings], write=False))
    assert [(a.posting, a.action, a.reason) for a in actions] == [
        ("data-analyst", "post", "publish_at reached"),
        ("later", "post", "publish_at"),
    ]
    assert isinstance(actions[0], Action) and actions[1].due > world.clock.now
    assert world.ledger.postings() == {} and world.ledger.listings() == []


async def test_unchanged_files_are_not_parsed_again(world: World, monkeypatch: Any) -> None:
    import publisher.validate

    parsed: list[str] = []
    real = publisher.validate.read_text

    def counting(path: Any, *args: Any, **kwargs: Any) -> Any:
        parsed.append(path.stem)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(publisher.validate, "read_text", counting)
    world.write(publish_at=date(2026, 11, 26))
    world.write("broken", title="")
    await world.sync()
    assert sorted(parsed) == ["broken", "data-analyst"]
    parsed.clear()
    assert (await world.sync()).outcomes == [] and parsed == ["broken"]  # invalid: always

    parsed.clear()
    world.write(publish_at=date(2026, 11, 26), title="Data Analyst II")
    result = await world.sync()
    assert sorted(parsed) == ["broken", "data-analyst"]
    assert world.actions(result) == [("data-analyst", "fakeboard", "update", "done")]

    parsed.clear()
    world.config = world.config.model_copy(update={"eeo_statement": "Changed."})
    assert (await world.sync()).outcomes == []
    assert sorted(parsed) == ["broken", "data-analyst"]  # the config changed: checked again


async def test_sync_of_a_stray_copy_of_a_posting_publishes_nothing(
    world: World, tmp_path: Path
) -> None:
    world.write(publish_at=date(2026, 11, 27))
    world.clock.advance(days=1)
    await world.sync()
    stray = tmp_path / "elsewhere"
    stray.mkdir()
    copy = stray / "data-analyst.yaml"
    copy.write_text(
        (world.postings / "data-analyst.yaml")
        .read_text()
        .replace("title: Data Analyst", "title: Stray Analyst")
    )
    engine = world.engine()
    result = await engine.sync([stray])
    await engine.aclose()
    assert [(f.file, f.rule, f.line) for f in result.findings] == [(str(copy), "duplicate-id", 1)]
    assert "is also used by" in result.findings[0].message
    assert result.outcomes == []
    assert [job["title"] for job in world.board.live()] == ["Data Analyst"]
    assert (await world.sync()).outcomes == []  # and the plain sync has nothing to flip back


async def test_a_restored_file_publishes_again_and_later_ends_for_good(world: World) -> None:
    """Deleted, then restored: published again; when it later ends by the default
    duration it stays ended (the restore does not keep re-posting it)."""
    path = world.write(publish_at=date(2026, 11, 26), expires_at=None, locations=UTAH)
    await world.sync()
    text = path.read_text()
    path.unlink()
    await world.sync()
    assert world.listing().state == "expired" and world.board.live() == []
    path.write_text(text)
    restored = await world.sync()
    assert world.actions(restored) == [("data-analyst", "fakeboard", "post", "done")]
    assert len(world.board.live()) == 1
    world.clock.advance(days=31)
    assert world.actions(await world.sync()) == [("data-analyst", "fakeboard", "expire", "done")]
    world.clock.advance(days=1)
    assert (await world.sync()).outcomes == [] and world.board.live() == []


async def test_a_file_restored_before_its_expire_ran_ends_for_good_later(world: World) -> None:
    path = world.write(publish_at=date(2026, 11, 26), expires_at=None, locations=UTAH)
    await world.sync()
    text = path.read_text()
    path.unlink()
    world.board.fail_next(*["503"] * 5)  # the removal's expire cannot get through: pending
    gone = await world.sync()
    assert world.actions(gone) == [("data-analyst", "fakeboard", "expire", "pending")]
    path.write_text(text)
    world.clock.advance(minutes=10)
    assert (await world.sync()).outcomes == []  # restored in time: that expire is cancelled
    assert world.listing().state == "live" and len(world.board.live()) == 1
    world.clock.advance(days=31)
    assert world.actions(await world.sync()) == [
        ("data-analyst", "fakeboard", "expire", "done")
    ]  # its default end, as planned
    world.clock.advance(days=1)
    assert (await world.sync()).outcomes == [] and world.listing().state == "expired"
    assert world.board.live() == []


async def test_a_feed_update_whose_files_cannot_be_written_stays_an_update(world: World) -> None:
    world.write(publish_at=date(2026, 11, 26), boards={"indeed_feed": {}})
    await world.sync()
    feeds = world.out / "feeds"
    shutil.rmtree(feeds)
    feeds.write_text("a file where the feeds directory was")
    world.write(
        publish_at=date(2026, 11, 26), boards={"indeed_feed": {}}, title="Senior Data Analyst"
    )
    with pytest.raises(PublisherError, match="indeed_feed: cannot write"):
        await world.sync()
    last = world.ledger.history("data-analyst")[-1]
    assert (last.action, last.outcome) == ("update", "retry")
    assert last.detail.endswith("; next attempt in 5 minutes")
    (work,) = world.ledger.open_work().values()
    assert (work.kind, work.due_at) == ("update", world.clock.now + timedelta(minutes=5))
