"""Boards that throttle, fail and drop connections: retries, reconciliation, no duplicates."""

from __future__ import annotations

import asyncio
import json
import socket
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
import respx

from publisher.engine import Engine
from publisher.executor import Executor
from tests.engine.world import DEAD, World

TODAY = date(2026, 11, 26)


def trail(world: World, posting_id: str = "data-analyst") -> list[tuple[str, str, int | None]]:
    return [(e.action, e.outcome, e.http_status) for e in world.ledger.history(posting_id)]


async def test_429_with_retry_after_waits_that_long(world: World) -> None:
    world.write(publish_at=TODAY)
    world.board.fail_next("429:7")
    result = await world.sync()
    assert world.clock.sleeps == [7.0]
    assert world.actions(result) == [("data-analyst", "fakeboard", "post", "done")]
    assert len(world.board.jobs) == 1 and world.listing().state == "live"
    assert trail(world) == [("post", "retry", 429), ("post", "ok", None)]


async def test_503s_are_retried_with_backoff_then_succeed(world: World) -> None:
    world.write(publish_at=TODAY)
    world.board.fail_next("503", "503")
    await world.sync()
    assert len(world.clock.sleeps) == 2
    assert 1 <= world.clock.sleeps[0] <= 2 and 2 <= world.clock.sleeps[1] <= 3  # 2^n + jitter
    assert world.board.calls == [("POST", "/v1/jobs")] * 3 and len(world.board.jobs) == 1
    assert trail(world) == [("post", "retry", 503), ("post", "retry", 503), ("post", "ok", None)]


async def test_400_fails_at_once_and_is_not_retried(world: World) -> None:
    world.write(publish_at=TODAY)
    world.board.fail_next("400")
    result = await world.sync()
    assert world.clock.sleeps == [] and world.board.calls == [("POST", "/v1/jobs")]
    assert len(result.failed) == 1
    listing = world.listing()
    assert listing.state == "failed"
    assert listing.last_error == 'fakeboard (HTTP 400): {"error":"fake board says 400"}'
    assert trail(world) == [("post", "failed", 400)]
    assert (await world.sync()).outcomes == []  # a person has to act: nothing retried

    world.write(publish_at=TODAY, title="Data Analyst (SQL)")  # the fix: retried once
    fixed = await world.sync()
    assert world.actions(fixed) == [("data-analyst", "fakeboard", "post", "done")]
    assert world.listing().state == "live" and world.listing().last_error is None


@pytest.mark.parametrize("fault", ["timeout-after", "drop"])
async def test_unknown_outcome_on_create_is_reconciled_not_reposted(
    world: World, fault: str
) -> None:
    world.write(publish_at=TODAY)
    world.board.fail_next(fault)
    await world.sync()
    assert world.board.calls == [("POST", "/v1/jobs"), ("GET", "/v1/jobs")]
    assert len(world.board.jobs) == 1
    assert (world.listing().state, world.listing().board_id) == ("live", "1001")
    assert [(a, o) for a, o, _ in trail(world)] == [
        ("post", "retry"),
        ("reconcile", "ok"),
        ("post", "ok"),
    ]


async def test_connect_error_is_retried_without_lookup(world: World) -> None:
    world.write(publish_at=TODAY)
    world.board.fail_next("connect")
    await world.sync()
    assert world.board.calls == [("POST", "/v1/jobs"), ("POST", "/v1/jobs")]
    assert len(world.board.jobs) == 1


async def test_long_retry_after_goes_back_to_the_ledger(world: World) -> None:
    world.write(publish_at=TODAY)
    world.board.fail_next("429:3600")
    result = await world.sync()
    assert world.clock.sleeps == [] and len(world.board.jobs) == 0
    assert world.actions(result) == [("data-analyst", "fakeboard", "post", "pending")]
    assert world.listing().state == "scheduled" and "429" in (world.listing().last_error or "")
    engine = world.engine()
    [upcoming] = engine.plan(engine.load([world.postings], write=False))
    assert upcoming.due == world.clock.now + timedelta(hours=1) and "retry 1" in upcoming.reason

    world.clock.advance(minutes=59)
    assert (await world.sync()).outcomes == []
    world.clock.advance(minutes=1)
    assert world.actions(await world.sync()) == [("data-analyst", "fakeboard", "post", "done")]
    assert len(world.board.jobs) == 1


async def test_retries_exhausted_come_back_later_not_failed(world: World) -> None:
    world.write(publish_at=TODAY)
    world.board.fail_next(*["503"] * 5)
    result = await world.sync()
    assert len(world.board.calls) == 5 and result.failed == []
    assert world.actions(result) == [("data-analyst", "fakeboard", "post", "pending")]
    world.clock.advance(minutes=5)
    assert world.actions(await world.sync()) == [("data-analyst", "fakeboard", "post", "done")]


#: Workers in another container with this host name (their own PID namespace), as this
#: version and an earlier one name them: their process ids mean nothing here, so a pid that
#: does not exist here says nothing about them.
NEIGHBOURS = {
    "same-name-container": f"{socket.gethostname()}/0123456789ab:999999999",
    "same-name-container-untagged": f"{socket.gethostname()}:999999999",
}


@pytest.mark.parametrize("owner", ["dead-process", "other-host", *NEIGHBOURS])
async def test_killed_between_call_and_ledger_write_is_reconciled(world: World, owner: str) -> None:
    world.write(publish_at=TODAY)
    await world.crash({"dead-process": DEAD, "other-host": "elsewhere:1", **NEIGHBOURS}[owner])
    assert len(world.board.jobs) == 1 and world.listing().state == "scheduled"

    if owner != "dead-process":  # a live lease elsewhere is respected until it runs out
        assert (await world.sync()).outcomes == []
        world.clock.advance(minutes=6)
    result = await world.sync()
    assert any("took over interrupted work" in n for n in result.notes)
    assert world.board.calls == [("POST", "/v1/jobs"), ("GET", "/v1/jobs")]
    assert len(world.board.jobs) == 1 and world.listing().board_id == "1001"
    assert world.listing().state == "live"
    assert (await world.sync()).outcomes == []


async def test_two_syncs_at_once_post_once(world: World) -> None:
    world.write(publish_at=TODAY)
    world.board.latency = 0.05
    first, second = await asyncio.gather(world.sync(), world.sync())
    assert len(first.outcomes) + len(second.outcomes) == 1
    assert world.board.calls == [("POST", "/v1/jobs")]


async def test_missing_credentials_skip_the_board(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.config.boards["fakeboard"] = {"api_key_env": "FAKEBOARD_KEY"}
    monkeypatch.delenv("FAKEBOARD_KEY", raising=False)
    world.write(publish_at=TODAY)
    result = await world.sync()
    assert result.skipped == {"fakeboard": "missing credentials or settings: FAKEBOARD_KEY"}
    assert result.outcomes == [] and world.board.calls == []

    monkeypatch.setenv("FAKEBOARD_KEY", "s3cret-token")
    assert world.actions(await world.sync()) == [("data-analyst", "fakeboard", "post", "done")]
    assert world.board.route.calls.last.request.headers["Authorization"] == "Bearer s3cret-token"
    stored = repr(world.ledger.listings()) + repr(world.ledger.history("data-analyst"))
    assert "s3cret-token" not in stored


async def test_auth_failure_stops_calls_to_that_board(world: World) -> None:
    world.write("one", publish_at=TODAY)
    world.write("two", publish_at=TODAY)
    world.board.fail_next("401")
    result = await world.sync()
    assert len(result.failed) == 2 and world.board.calls == [("POST", "/v1/jobs")]
    assert {r.state for r in world.ledger.listings()} == {"failed"}


async def test_expire_now_closes_it_and_sync_leaves_it_closed(world: World) -> None:
    world.write(publish_at=TODAY)
    await world.sync()
    engine: Engine = world.engine()
    result = await engine.expire_now("data-analyst")
    await engine.aclose()
    assert world.actions(result) == [("data-analyst", "fakeboard", "expire", "done")]
    assert world.board.live() == [] and (await world.sync()).outcomes == []


async def test_concurrency_and_rate_limits_from_config(world: World) -> None:
    from publisher.config import Limits

    for i in range(6):
        world.write(f"job-{i}", publish_at=TODAY)
    world.board.latency = 0.02
    world.config.limits["fakeboard"] = Limits(concurrency=2)
    await world.sync()
    assert world.board.max_in_flight == 2 and len(world.board.live()) == 6

    world.config.limits["fakeboard"] = Limits(concurrency=1, rate_per_second=2.0, burst=1)
    for i in range(6, 9):
        world.write(f"job-{i}", publish_at=TODAY)
    await world.sync()
    assert world.clock.sleeps == [0.5, 0.5]  # the burst's one call, then 2 a second


async def test_webhook_keys_are_one_per_change_and_repeats_reuse_them(
    world: World, http: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every unit of work has its own Idempotency-Key; only its retries repeat it."""
    monkeypatch.setenv("HOOK_SECRET", "hook-s3cret")
    world.config.boards["webhook"] = {
        "url": "https://careers.example.com/hooks/jobpub",
        "secret_env": "HOOK_SECRET",
    }
    hook = http.post("https://careers.example.com/hooks/jobpub").mock(
        side_effect=[
            httpx.ReadTimeout("read timed out"),
            httpx.Response(200, json={"id": "w-17"}),
            *[httpx.Response(200, json={"id": "w-17"}) for _ in range(5)],
        ]
    )
    path = world.write(publish_at=TODAY, boards={"webhook": {}})
    await world.sync()
    ref = "jobpub-data-analyst-webhook"
    assert (world.listing(board="webhook").state, world.listing(board="webhook").board_id) == (
        "live",
        "w-17",
    )
    # A webhook cannot be looked up: the unknown outcome is delivered again, same key.
    assert [(e.action, e.outcome) for e in world.ledger.history("data-analyst")] == [
        ("post", "retry"),
        ("post", "ok"),
    ]

    world.write(publish_at=TODAY, boards={"webhook": {}}, title="Senior Data Analyst")
    await world.sync()
    world.write(publish_at=TODAY, boards={"webhook": {}}, title="Lead Data Analyst")
    await world.sync()
    path.unlink()
    await world.sync()
    last = hook.calls.last.request
    assert json.loads(last.content) == {"action": "withdraw", "ref": ref}
    assert last.headers["X-Jobpub-Signature"].startswith("sha256=")
    assert world.listing(board="webhook").state == "expired"
    world.write(publish_at=TODAY, boards={"webhook": {}}, title="Lead Data Analyst")
    await world.sync()  # restored: published again, under a new key

    sent = [
        (json.loads(c.request.content)["action"], c.request.headers["Idempotency-Key"])
        for c in hook.calls
    ]
    assert sent == [
        ("publish", f"{ref}:post:r1:1"),
        ("publish", f"{ref}:post:r1:1"),
        ("update", f"{ref}:update:r2:1"),
        ("update", f"{ref}:update:r3:2"),
        ("withdraw", f"{ref}:expire:r3:1"),
        ("publish", f"{ref}:post:r3:2"),
    ]


async def test_retry_after_as_an_http_date(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from email.utils import format_datetime

    monkeypatch.setattr("publisher.clock.now", world.clock)  # the date is read against it
    world.write(publish_at=TODAY)
    when = world.clock.now + timedelta(seconds=30)
    world.board.fail_next(f"503:{format_datetime(when, usegmt=True)}")
    await world.sync()
    assert world.clock.sleeps == [30.0]
    assert len(world.board.jobs) == 1


async def test_409_on_create_looks_the_listing_up_once(world: World) -> None:
    from sqlalchemy import delete

    from publisher.tables import due_work, events, listings

    world.write(publish_at=TODAY)
    await world.sync()
    with world.ledger.engine.begin() as conn:  # the ledger lost it (an old backup restored)
        for table in (events, due_work, listings):
            conn.execute(delete(table))
    world.board.calls.clear()
    result = await world.sync(full=True)  # (a change behind the engine's back: a full plan)
    assert world.actions(result) == [("data-analyst", "fakeboard", "post", "done")]
    assert world.board.calls == [
        ("POST", "/v1/jobs"),
        ("GET", "/v1/jobs"),  # 409, found,
        ("PUT", "/v1/jobs/1001"),
    ]  # its content is not known: sent
    assert len(world.board.jobs) == 1 and world.listing().board_id == "1001"

    world.write("other", publish_at=TODAY)  # a 409 that is not ours: one lookup, then failed
    world.board.fail_next("409", "ok", "409")
    failed = await world.sync()
    assert world.actions(failed) == [("other", "fakeboard", "post", "failed")]
    assert world.board.calls[-3:] == [
        ("POST", "/v1/jobs"),
        ("GET", "/v1/jobs"),
        ("POST", "/v1/jobs"),
    ]


async def test_an_unexpected_exception_fails_the_action_logged_and_a_create_is_looked_up(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug after the board took a create (here: building its outcome) fails the action
    with its traceback logged, and marks the create so that it is looked up, never resent."""
    world.write(publish_at=TODAY)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug in building the outcome")

    done = Executor.done
    monkeypatch.setattr(Executor, "done", broken)
    await world.sync()
    listing = world.listing()
    assert (listing.state, listing.reconcile) == ("failed", True)
    assert listing.last_error == "fakeboard: RuntimeError while running post"
    (logged,) = [r for r in caplog.records if r.exc_info]
    assert logged.getMessage().startswith("fakeboard: unexpected RuntimeError while running #")
    monkeypatch.setattr(Executor, "done", done)
    await world.sync(retry_failed=True)
    assert world.board.calls == [("POST", "/v1/jobs"), ("GET", "/v1/jobs")]  # not resent
    assert world.listing().state == "live" and len(world.board.jobs) == 1


async def test_an_adapter_answering_neither_receipt_nor_error_is_an_unknown_outcome(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.write(publish_at=TODAY)
    adapter = type(world.engine().adapter("fakeboard"))
    real = adapter.publish

    async def odd(self: Any, posting: Any, ref: str, *, key: str | None = None) -> Any:
        await real(self, posting, ref, key=key)
        return {"id": "1001"}  # a dict, not a receipt

    monkeypatch.setattr(adapter, "publish", odd)
    result = await world.sync()  # unknown: looked up at the next attempt, found, adopted
    assert world.actions(result) == [("data-analyst", "fakeboard", "post", "done")]
    assert world.listing().state == "live" and len(world.board.jobs) == 1
    assert world.board.calls == [("POST", "/v1/jobs"), ("GET", "/v1/jobs")]
    trail = [e.detail for e in world.ledger.history("data-analyst")]
    assert trail[0].startswith(
        "the fakeboard adapter answered a dict, neither a receipt nor "
        "an error; the board may have processed it; retrying in "
    )
    assert trail[1] == "looked up jobpub-data-analyst-fakeboard: found on the board as 1001"
