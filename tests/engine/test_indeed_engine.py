"""Indeed Job Sync through the engine, SQLite and PostgreSQL: post (its answer lost once:
the upsert is sent again, one job) -> update (Indeed answers a new sourcedPostingId, which is
kept) -> expire (by the new id)."""

from __future__ import annotations

from datetime import date

import pytest
import respx

from tests.engine.world import World
from tests.indeeddouble import API, IndeedDouble


@pytest.fixture
def indeed(http: respx.MockRouter, world: World, monkeypatch: pytest.MonkeyPatch) -> IndeedDouble:
    double = IndeedDouble()
    http.route(url__startswith=API).mock(side_effect=double.handle)
    for name, value in double.env.items():
        monkeypatch.setenv(name, value)
    world.config.boards["indeed"] = {"source_name": "Example careers"}
    return double


async def test_post_update_with_a_new_id_then_expire(world: World, indeed: IndeedDouble) -> None:
    ref = "jobpub-data-analyst-indeed"
    world.write(boards={"indeed": {}}, publish_at=date(2026, 11, 26))
    indeed.fail_next("timeout-after")  # Indeed took it; the answer was lost
    await world.sync()
    listing = world.listing(board="indeed")
    assert (listing.state, listing.board_id) == ("live", "sp-1")
    assert indeed.open_refs() == {ref: 1} and len(indeed.bodies) == 2  # sent again: upsert

    indeed.new_ids = True  # e.g. reactivated past 30 days: Indeed hands out a new id
    world.write(boards={"indeed": {}}, publish_at=date(2026, 11, 26), title="Senior Data Analyst")
    await world.sync()
    assert world.listing(board="indeed").board_id == "sp-2"  # the latest id is kept
    assert indeed.content(ref) == "Senior Data Analyst"

    (world.postings / "data-analyst.yaml").unlink()
    await world.sync()
    expire = indeed.bodies[-1]
    assert expire["operationName"] == "ExpireSourcedJobs"
    assert expire["variables"]["input"] == {"jobs": [{"sourcedPostingId": "sp-2"}]}
    assert world.listing(board="indeed").state == "expired" and indeed.open_refs() == {}
