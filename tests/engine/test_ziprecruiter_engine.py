"""ZipRecruiter through the engine, SQLite and PostgreSQL: post (its answer lost after it
stored the job) -> update -> expire; the job is created once."""

from __future__ import annotations

from datetime import date

import pytest
import respx

from tests.engine.world import World
from tests.ziprecruiterdouble import API, KEY, ZipRecruiterDouble


@pytest.fixture
def zr(http: respx.MockRouter) -> ZipRecruiterDouble:
    double = ZipRecruiterDouble()
    http.route(url__startswith=API).mock(side_effect=double.handle)
    return double


async def test_post_update_expire_with_a_dropped_answer(
    world: World, zr: ZipRecruiterDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZIPRECRUITER_API_KEY", KEY)
    ref = "jobpub-data-analyst-ziprecruiter"
    world.write(boards={"ziprecruiter": {}}, publish_at=date(2026, 11, 26))
    zr.fail_next("timeout-after")  # ZipRecruiter made the job; its answer was lost
    await world.sync()
    listing = world.listing(board="ziprecruiter")
    assert listing.state == "live" and zr.creates == [ref]  # looked up, adopted
    world.write(
        boards={"ziprecruiter": {}}, publish_at=date(2026, 11, 26), title="Senior Data Analyst"
    )
    await world.sync()
    assert zr.content(ref) == "Senior Data Analyst"
    (world.postings / "data-analyst.yaml").unlink()
    await world.sync()
    assert zr.jobs[ref]["status"] == "closed"
    assert world.listing(board="ziprecruiter").state == "expired"
    trail = [(e.action, e.outcome) for e in world.ledger.history("data-analyst")]
    assert ("reconcile", "ok") in trail and zr.creates == [ref]
