"""``jobpub verify``: live listings looked up on the boards that can be queried; one a board
no longer shows is reported (exit 1), announced once, and with ``--repair`` posted again by
the next sync; a listing with work open is not judged; a failed lookup is not drift."""

from __future__ import annotations

import asyncio
import json

import pytest
import respx
from click.testing import CliRunner, Result

from publisher.cli import cli
from publisher.config import Notify
from publisher.engine import SyncResult
from tests.engine.test_notify import Receiver
from tests.engine.world import World

POSTINGS = ("data-analyst", "ux-writer", "store-manager")


def jobpub(world: World, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(world.config_path), *args])


def posted(world: World) -> None:
    for posting in POSTINGS:
        world.write(posting, publish_at=None, boards={"fakeboard": {}, "google": {}})
    asyncio.run(world.sync())
    assert len(world.board.live()) == 3


def closed_on_the_board(world: World, posting: str) -> str:
    """Someone closes the job in the board's own dashboard."""
    listing = world.listing(posting)
    assert listing.board_id is not None
    world.board.jobs[listing.board_id]["status"] = "closed"
    return listing.external_ref


def test_a_listing_the_board_dropped_is_reported_then_repaired(world: World) -> None:
    posted(world)
    assert (
        jobpub(world, "verify").output.splitlines()[-1]
        == "checked live listings: fakeboard 3; 0 missing"
    )
    ref = closed_on_the_board(world, "ux-writer")

    found = jobpub(world, "verify")
    assert found.exit_code == 1
    assert (
        f"MISSING ux-writer on fakeboard ({ref}): live in the ledger, not on the board; "
        "jobpub verify --repair puts it back" in found.output
    )
    assert "not checked google: cannot be queried by reference" in found.output
    assert world.listing("ux-writer").state == "live"  # reported only

    repaired = json.loads(jobpub(world, "verify", "--repair", "--json").output)
    assert repaired["missing"] == [
        {"posting": "ux-writer", "board": "fakeboard", "external_ref": ref, "repaired": True}
    ]
    assert repaired["checked"] == {"fakeboard": 3}
    assert world.listing("ux-writer").state == "scheduled"
    history = jobpub(world, "history", "ux-writer", "--json").output
    assert "live in the ledger but not found on the board (jobpub verify)" in history

    again = asyncio.run(world.sync())
    assert world.actions(again) == [("ux-writer", "fakeboard", "post", "done")]
    assert len(world.board.live()) == 3 and world.listing("ux-writer").state == "live"
    assert jobpub(world, "verify").exit_code == 0


def test_drift_is_announced_once_and_closed_when_repaired(
    world: World, http: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver = Receiver()
    http.route(host="127.0.0.1").pass_through()
    monkeypatch.setenv("JOBPUB_HOOK_URL", receiver.url)
    world.config_path.write_text(
        world.config_path.read_text() + '\n[notify]\nwebhook_url_env = "JOBPUB_HOOK_URL"\n'
    )
    world.config = world.config.model_copy(
        update={"notify": Notify(webhook_url_env="JOBPUB_HOOK_URL")}
    )
    posted(world)
    closed_on_the_board(world, "store-manager")
    assert jobpub(world, "verify").exit_code == 1
    assert jobpub(world, "verify").exit_code == 1
    (text,) = receiver.texts()
    assert "store-manager is live in the ledger but not on fakeboard" in text
    assert jobpub(world, "verify", "--repair").exit_code == 1
    asyncio.run(world.sync())
    assert jobpub(world, "verify").exit_code == 0
    closed_on_the_board(world, "store-manager")  # gone again: a new incident
    assert jobpub(world, "verify").exit_code == 1
    assert len(receiver.texts()) == 2
    receiver.server.shutdown()


def test_listings_with_work_open_and_failed_lookups_are_not_judged(world: World) -> None:
    posted(world)
    closed_on_the_board(world, "data-analyst")
    world.write("data-analyst", publish_at=None, title="Senior Data Analyst")
    engine = world.engine()  # an update is planned and queued, not run yet
    engine._queue_due(engine.load([world.postings]), SyncResult(), retry_failed=False)
    world.board.fail_next("503")
    shown = jobpub(world, "verify")
    assert shown.exit_code == 0, shown.output
    assert "fakeboard: 1 lookup(s) failed and were not judged (first: " in shown.output
    assert shown.output.splitlines()[-1] == "checked live listings: fakeboard 2; 0 missing"
