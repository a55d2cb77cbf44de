"""The engine's commands end to end (the fake clock and the fake board): output, JSON
shapes, exit codes."""

from __future__ import annotations

import asyncio
import getpass
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from publisher.cli import cli
from publisher.engine import Engine, SyncResult
from publisher.scheduler import serve
from tests.engine.world import World
from tests.factories import NOW

TODAY = NOW.date()


@pytest.fixture(autouse=True)
def _fake_clock(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every command reads the world's fake clock (publisher.clock is the one seam)."""
    monkeypatch.setattr("publisher.clock.now", world.clock)


def jobpub(world: World, *args: str) -> Result:
    import publisher.engine_cli  # noqa: F401  (registers the engine's commands)

    return CliRunner().invoke(cli, ["--config", str(world.config_path), *args])


def current(world: World, posting_id: str = "data-analyst", **changes: Any) -> None:
    world.write(
        posting_id,
        publish_at=TODAY - timedelta(days=1),
        expires_at=TODAY + timedelta(days=60),
        **changes,
    )


def test_sync_status_plan_history(world: World) -> None:
    current(world)
    before = json.loads(jobpub(world, "plan", "--json").output)["actions"]
    assert [(a["posting"], a["board"], a["action"], a["reason"]) for a in before] == [
        ("data-analyst", "fakeboard", "post", "publish_at reached")
    ]
    assert (
        "post    data-analyst on fakeboard now: publish_at reached" in jobpub(world, "plan").output
    )
    synced = jobpub(world, "sync")
    assert synced.exit_code == 0, synced.output
    assert "data-analyst fakeboard: post posted" in synced.output
    assert "fakeboard       post          1            0       0" in synced.output

    status = json.loads(jobpub(world, "status", "--json").output)["listings"]
    assert [(s["posting"], s["board"], s["state"], s["board_id"], s["url"]) for s in status] == [
        ("data-analyst", "fakeboard", "live", "1001", "https://fakeboard.test/jobs/1001")
    ]
    assert set(status[0]) == {
        "posting",
        "board",
        "state",
        "board_id",
        "url",
        "posted_at",
        "refreshed_at",
        "next_refresh_at",
        "expires_at",
        "last_error",
        "hold",
    }
    assert status[0]["next_refresh_at"] is not None

    assert json.loads(jobpub(world, "plan", "--json").output) == {"actions": []}
    upcoming = json.loads(jobpub(world, "plan", "--json", "--upcoming").output)["actions"]
    assert [(a["action"], a["reason"]) for a in upcoming] == [
        ("refresh", "refresh policy: every 7 days"),
        ("expire", "expires_at"),
    ]
    again = jobpub(world, "sync")
    assert again.exit_code == 0 and "nothing to do" in again.output

    events = json.loads(jobpub(world, "history", "data-analyst", "--json").output)["events"]
    assert [(e["board"], e["action"], e["outcome"], e["http_status"]) for e in events] == [
        ("fakeboard", "post", "ok", None)
    ]
    assert set(events[0]) == {
        "time",
        "board",
        "action",
        "outcome",
        "http_status",
        "detail",
        "actor",
    }
    assert events[0]["actor"] == getpass.getuser()  # who ran the sync
    unknown = jobpub(world, "history", "nobody")
    assert unknown.exit_code == 1 and "no posting 'nobody'" in unknown.output


def test_permanent_failure_exits_1_and_status_shows_the_reason(world: World) -> None:
    current(world)
    world.board.fail_next("400")
    synced = jobpub(world, "sync")
    assert synced.exit_code == 1
    assert "FAILED data-analyst on fakeboard (post): fakeboard (HTTP 400)" in synced.output
    status = jobpub(world, "status", "data-analyst")
    assert "failed" in status.output and "fake board says 400" in status.output


def test_invalid_posting_exits_1_with_its_position(world: World) -> None:
    current(world, title="")
    synced = jobpub(world, "sync")
    assert synced.exit_code == 1 and "Traceback" not in synced.output
    assert "data-analyst.yaml:2:" in synced.output and "schema" in synced.output
    assert world.ledger.listings() == []


def test_queue_then_sync(world: World, tmp_path: Any) -> None:
    source = world.write("queued-job")
    outside = tmp_path / "queued-job.yaml"
    outside.write_text(source.read_text())
    source.unlink()
    later = (TODAY + timedelta(days=3)).isoformat()
    queued = jobpub(world, "queue", str(outside), "--board", "fakeboard", "--at", later)
    assert queued.exit_code == 0, queued.output
    assert f"queued queued-job for fakeboard: publishes {later} 00:00" in queued.output
    plan = json.loads(jobpub(world, "plan", "--json", "--upcoming").output)["actions"]
    assert [(a["posting"], a["action"], a["due"][:10]) for a in plan] == [
        ("queued-job", "post", later)
    ]
    bad = jobpub(world, "queue", str(outside), "--board", "linkedin")
    assert bad.exit_code == 2 and "not among the posting's boards" in bad.output


def test_expire_holds_until_reopen(world: World) -> None:
    current(world)
    jobpub(world, "sync")
    expired = jobpub(world, "expire", "data-analyst")
    assert expired.exit_code == 0, expired.output
    assert "data-analyst fakeboard: expire expired" in expired.output
    assert "jobpub reopen data-analyst does" in expired.output
    assert world.board.live() == []
    current(world, title="Senior Data Analyst")  # an edit does not undo a manual expire
    plan = jobpub(world, "plan")
    assert "nothing to do" in plan.output
    assert "held: data-analyst on fakeboard: closed by jobpub expire at " in plan.output
    assert "jobpub reopen data-analyst to publish again" in jobpub(world, "status").output
    assert json.loads(jobpub(world, "status", "--json").output)["listings"][0]["hold"].startswith(
        "closed by jobpub expire at "
    )
    assert jobpub(world, "sync").exit_code == 0 and world.board.live() == []

    reopened = jobpub(world, "reopen", "data-analyst")
    assert reopened.exit_code == 0 and "reopened data-analyst on fakeboard" in reopened.output
    assert (
        "post    data-analyst on fakeboard now: reopened by jobpub reopen"
        in jobpub(world, "plan").output
    )
    trail = json.loads(jobpub(world, "history", "data-analyst", "--json").output)["events"]
    assert [(e["action"], e["actor"]) for e in trail[-2:]] == [
        ("expire", getpass.getuser()),
        ("reopen", getpass.getuser()),
    ]  # who did what
    jobpub(world, "sync")
    assert [job["title"] for job in world.board.live()] == ["Senior Data Analyst"]
    assert jobpub(world, "reopen", "data-analyst").exit_code == 1  # nothing to reopen


def test_a_closed_file_stays_closed_whatever_reopen_says(world: World) -> None:
    current(world)
    jobpub(world, "sync")
    jobpub(world, "expire", "data-analyst")
    current(world, status="closed")
    assert jobpub(world, "reopen", "data-analyst").exit_code == 0
    jobpub(world, "sync")
    assert world.board.live() == [] and world.listing().state == "expired"


def test_expire_with_a_board_the_posting_lacks_or_an_unknown_id(world: World) -> None:
    current(world)
    jobpub(world, "sync")
    for board in ("Google", "linkedin"):
        bad = jobpub(world, "expire", "data-analyst", "--board", board)
        assert bad.exit_code == 2, bad.output
        assert (
            f"--board {board}: 'data-analyst' is not on that board (its boards: "
            "fakeboard)" in bad.output
        )
    assert world.board.live() != []
    for command in ("expire", "reopen", "status", "history"):
        unknown = jobpub(world, command, "nobody")
        assert unknown.exit_code == 1 and "no posting 'nobody'" in unknown.output, command


def test_expiring_a_queued_posting_cancels_its_scheduled_post(world: World, tmp_path: Path) -> None:
    outside = tmp_path / "later.yaml"
    outside.write_text(
        world.write(
            "later", publish_at=TODAY + timedelta(days=3), expires_at=TODAY + timedelta(days=60)
        ).read_text()
    )
    (world.postings / "later.yaml").unlink()
    assert jobpub(world, "queue", str(outside)).exit_code == 0
    again = jobpub(world, "queue", str(outside), "--at", str(TODAY + timedelta(days=5)))
    assert "this replaces the earlier queued version (it published " in again.output
    assert jobpub(world, "expire", "later").exit_code == 0
    assert world.listing("later").state == "expired"
    assert jobpub(world, "plan", "--upcoming", "--json").output.count('"post"') == 0
    assert world.board.calls == []


def test_unreachable_ledger_is_a_config_error_without_the_password(world: World) -> None:
    world.config_path.write_text(
        world.config_path.read_text().replace(
            world.config.ledger, "postgresql+psycopg://jobpub:hunter2@127.0.0.1:1/nowhere"
        )
    )
    result = jobpub(world, "status")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert (
        "ledger: cannot open postgresql+psycopg://jobpub:***@127.0.0.1:1/nowhere" in result.output
    )
    assert "hunter2" not in result.output


async def test_run_ticks_until_stopped(world: World) -> None:
    current(world)
    engine = Engine(world.config, world.ledger)
    stop = asyncio.Event()
    results: list[SyncResult] = []

    def report(result: SyncResult) -> None:
        results.append(result)
        stop.set()

    await asyncio.wait_for(serve(engine, 5, report, stop), timeout=10)
    await engine.aclose()
    assert [len(r.outcomes) for r in results] == [1]
    assert world.listing().state == "live"


def test_a_ledger_failure_is_one_line_not_a_traceback(world: World, monkeypatch: Any) -> None:
    import sqlalchemy.exc

    from publisher.ledger import Ledger

    def down(self: Ledger, posting_id: str | None = None) -> None:
        raise sqlalchemy.exc.OperationalError(
            "SELECT", {}, Exception("server closed the connection\nmore")
        )

    monkeypatch.setattr(Ledger, "listings", down)
    result = jobpub(world, "status")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "jobpub: ledger: server closed the connection (nothing recorded is lost" in result.output


def test_queue_at_takes_times_as_posting_files_do(world: World, tmp_path: Path) -> None:
    outside = tmp_path / "later.yaml"
    outside.write_text(
        world.write(
            "later", publish_at=TODAY + timedelta(days=3), expires_at=TODAY + timedelta(days=60)
        ).read_text()
    )
    (world.postings / "later.yaml").unlink()
    naive = jobpub(world, "queue", str(outside), "--at", f"{TODAY + timedelta(days=2)}T09:00:00")
    assert naive.exit_code == 2 and "no UTC offset; add one" in naive.output
    past = jobpub(world, "queue", str(outside), "--at", str(TODAY - timedelta(days=2)))
    assert past.exit_code == 2 and "is in the past" in past.output
    ok = jobpub(world, "queue", str(outside), "--at", f"{TODAY + timedelta(days=2)}T09:00:00-07:00")
    assert ok.exit_code == 0, ok.output


def test_what_sync_status_and_history_say(world: World, tmp_path: Path) -> None:
    import re

    current(world)
    piped = jobpub(world, "sync")
    assert re.search(
        r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ data-analyst fakeboard: post posted "
        r"\(attempt 1, \d+\.\d\d s\)$",
        piped.output,
        re.M,
    ), piped.output
    (world.postings / "data-analyst.yaml").write_text("title: [broken\n")
    held = jobpub(world, "sync")
    assert held.exit_code == 1
    assert "nothing published: 1 posting file(s) with errors are held back" in held.output
    current(world, title="Senior Data Analyst")
    world.board.fail_next("400")  # the board refuses the update
    assert jobpub(world, "sync").exit_code == 1
    again = jobpub(world, "sync")
    assert "nothing to do now; 1 listing(s) failed earlier: see jobpub status" in again.output

    history = jobpub(world, "history", "data-analyst").output.splitlines()
    assert history[0].split() == ["TIME", "BOARD", "ACTION", "RESULT", "DETAIL"]

    outside = tmp_path / "later.yaml"
    outside.write_text(
        world.write(
            "later", publish_at=TODAY + timedelta(days=3), expires_at=TODAY + timedelta(days=60)
        ).read_text()
    )
    (world.postings / "later.yaml").unlink()
    jobpub(world, "queue", str(outside))
    status = jobpub(world, "status", "later")
    assert status.exit_code == 0
    assert "queued, not synced yet: later (the next jobpub sync publishes them)" in status.output


def test_json_and_config_options_are_the_same_everywhere(world: World) -> None:
    current(world)
    by_format = jobpub(world, "validate", "--format", "json", str(world.postings)).output
    assert jobpub(world, "validate", "--json", str(world.postings)).output == by_format
    after = CliRunner().invoke(cli, ["status", "--json", "--config", str(world.config_path)])
    assert after.exit_code == 0
    assert json.loads(after.output) == {"listings": [], "workers": []}
    boards = jobpub(world, "boards").output
    assert "SECRETpublish" not in boards and "JOBPUB" not in boards.split("publish")[0][-3:]


def test_archive_export_lists_every_revision_with_where_and_when_it_was_live(world: World) -> None:
    current(world)
    assert jobpub(world, "sync").exit_code == 0
    world.clock.advance(days=2)
    current(world, title="Senior Data Analyst")
    assert jobpub(world, "sync").exit_code == 0
    world.clock.advance(days=3)
    (world.postings / "data-analyst.yaml").unlink()
    assert jobpub(world, "sync").exit_code == 0
    shown = jobpub(world, "archive", "export")
    assert shown.exit_code == 0, shown.output
    rows = [json.loads(line) for line in shown.output.splitlines()]
    assert [(r["posting"], r["revision"], r["content"]["title"]) for r in rows] == [
        ("data-analyst", 1, "Data Analyst"),
        ("data-analyst", 2, "Senior Data Analyst"),
    ]
    first, second = rows
    (board,) = first["live"]
    assert board["board"] == "fakeboard" and board["live_until"] == second["recorded_at"]
    (board,) = second["live"]
    assert board["live_from"] == second["recorded_at"] and board["live_until"] is not None
    later = jobpub(world, "archive", "export", "--since", "2099-01-01")
    assert later.exit_code == 0 and later.output == ""
    bad = jobpub(world, "archive", "export", "--since", "soon")
    assert bad.exit_code == 2 and "--since: not an ISO date" in bad.output
