"""Holes a chaos trial found in "never twice, never lost" (issue 9), one test each:
takeovers repeat the action in flight under its own key, adapter exceptions stay one
action's problem, file boards are recorded after their files, partial indexing batches are
counted, one bad outcome never discards the others, board reasons never carry a secret."""

from __future__ import annotations

import json
import os
from datetime import date, timedelta

import httpx
import pytest
import respx
from click.testing import CliRunner

from publisher.cli import cli
from publisher.errors import PublisherError
from publisher.ledger import Outcome
from tests.engine.world import World
from tests.factories import NOW

TODAY = date(2026, 11, 26)
HOOK = "https://careers.example.com/hooks/jobpub"


@pytest.fixture
def hook(world: World, http: respx.MockRouter) -> respx.Route:
    world.config.boards["webhook"] = {"url": HOOK}
    return http.post(HOOK).mock(return_value=httpx.Response(200, json={"id": "w-1"}))


def _sent(hook: respx.Route) -> list[tuple[str, str]]:
    return [
        (json.loads(c.request.content)["action"], c.request.headers["Idempotency-Key"])
        for c in hook.calls
    ]


async def test_a_withdraw_taken_over_after_a_crash_is_sent_again(
    world: World, hook: respx.Route
) -> None:
    path = world.write(publish_at=TODAY, boards={"webhook": {}})
    await world.sync()
    path.unlink()
    await world.crash()  # the withdraw went out; the ledger never heard
    assert world.listing(board="webhook").state == "live"
    result = await world.sync()
    assert any("sent again under the same key" in n for n in result.notes)
    ref = "jobpub-data-analyst-webhook"
    assert _sent(hook) == [
        ("publish", f"{ref}:post:r1:1"),
        ("withdraw", f"{ref}:expire:r1:1"),
        ("withdraw", f"{ref}:expire:r1:1"),
    ]
    assert world.listing(board="webhook").state == "expired"
    assert "reconcile" not in [e.action for e in world.ledger.history("data-analyst")]


async def test_an_update_taken_over_goes_out_as_an_update_under_its_own_key(
    world: World, hook: respx.Route
) -> None:
    world.write(publish_at=TODAY, boards={"webhook": {}})
    await world.sync()
    world.write(publish_at=TODAY, boards={"webhook": {}}, title="Senior Data Analyst")
    await world.crash()
    await world.sync()
    ref = "jobpub-data-analyst-webhook"
    assert _sent(hook) == [
        ("publish", f"{ref}:post:r1:1"),
        ("update", f"{ref}:update:r2:1"),
        ("update", f"{ref}:update:r2:1"),
    ]
    listing = world.listing(board="webhook")
    assert (listing.state, listing.revision) == ("live", 2)


async def test_a_manual_expire_twice_gets_two_keys(world: World, hook: respx.Route) -> None:
    world.write(publish_at=TODAY, boards={"webhook": {}})
    await world.sync()
    for _ in range(2):
        engine = world.engine()
        await engine.expire_now("data-analyst")
        await engine.aclose()
        with world.ledger.engine.begin() as conn:  # as if it was published again since
            from publisher.tables import listings

            conn.execute(listings.update().values(state="live"))
    ref = "jobpub-data-analyst-webhook"
    assert _sent(hook)[1:] == [
        ("withdraw", f"{ref}:expire:r1:1"),
        ("withdraw", f"{ref}:expire:r1:2"),
    ]


async def test_an_exception_inside_an_adapter_is_that_actions_outcome(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from publisher.adapter import Receipt
    from tests.fakeboard import FakeBoardAdapter

    def careless(
        self: FakeBoardAdapter, response: httpx.Response, ref: str, known: Receipt | None = None
    ) -> Receipt:  # an adapter with a bug
        return Receipt(self.name, ref, board_id=response.json()["id"])

    monkeypatch.setattr(FakeBoardAdapter, "_receipt", careless)
    for name in ("one", "two", "three"):
        world.write(name, publish_at=TODAY)
    world.board.fail_next("ok", "malformed")  # the second create: 201 with a body of {}
    result = await world.sync()
    assert sorted(d.state for d in result.outcomes) == ["done", "done", "done"]
    with world.ledger.engine.begin() as conn:
        from publisher.tables import due_work

        states = sorted(row.state for row in conn.execute(due_work.select()))
    assert states == ["done", "done", "done"]  # nothing left 'running'
    # The unknown outcome was looked up and found (the same content): not created again.
    assert len(world.board.jobs) == 3
    assert sorted(world.listing(p).state for p in ("one", "two", "three")) == ["live"] * 3
    trails = {
        p: [(e.action, e.outcome, e.detail) for e in world.ledger.history(p)]
        for p in ("one", "two", "three")
    }
    broken = [p for p, trail in trails.items() if len(trail) > 1]
    assert len(broken) == 1
    assert trails[broken[0]][:2] == [
        (
            "post",
            "retry",
            "KeyError in the fakeboard adapter; the board may have processed "
            "the call; retrying in " + trails[broken[0]][0][2].split("in ")[-1],
        ),
        (
            "reconcile",
            "ok",
            f"looked up jobpub-{broken[0]}-fakeboard: found on the board as "
            f"{world.listing(broken[0]).board_id}",
        ),
    ]
    assert [c for c in world.board.calls if c[0] == "PUT"] == []


async def test_file_boards_are_recorded_only_after_their_files_are_written(world: World) -> None:
    world.write(publish_at=TODAY, boards={"indeed_feed": {}})
    world.out.parent.mkdir(parents=True, exist_ok=True)
    world.out.write_text("not a folder")  # the output folder cannot be made
    with pytest.raises(PublisherError, match="cannot write"):
        await world.sync()
    listing = world.listing(board="indeed_feed")
    assert listing.state == "scheduled" and "cannot write" in (listing.last_error or "")
    world.out.unlink()
    assert (await world.sync()).outcomes == []  # due again in 5 minutes, not before
    world.clock.advance(minutes=5)
    await world.sync()
    assert world.listing(board="indeed_feed").state == "live"
    assert (world.out / "feeds/indeed.xml").exists()


async def test_an_indexing_batch_failing_partway_counts_the_calls_made(
    world: World,
    http: respx.MockRouter,
    tmp_path: os.PathLike[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.adapters.test_google import _service_account

    monkeypatch.setenv("GOOGLE_SA", str(_service_account(tmp_path)))
    world.config.boards["google"].update(indexing=True, service_account_env="GOOGLE_SA")
    http.post("https://oauth2.googleapis.com/token").mock(
        return_value=httpx.Response(200, json={"access_token": "ya29.test"})
    )
    ping = http.post("https://indexing.googleapis.com/v3/urlNotifications:publish").mock(
        side_effect=[
            httpx.Response(200, json={}),
            httpx.Response(500, text="backend error"),
            httpx.Response(200, json={}),
        ]
    )
    for name in ("one", "two"):
        world.write(name, publish_at=TODAY, boards={"google": {}})
    result = await world.sync()
    assert "google: 1 page change(s) announced, then announcing failed" in " ".join(result.notes)
    assert world.ledger.quota_used("google", "2026-11-26") == 1
    await world.sync()  # only the one that failed goes again
    assert [json.loads(c.request.content)["url"] for c in ping.calls] == [
        "https://jobs.example.com/one.html",
        "https://jobs.example.com/two.html",
        "https://jobs.example.com/two.html",
    ]
    assert world.ledger.quota_used("google", "2026-11-26") == 2


async def test_a_key_file_without_client_email_is_a_clear_auth_error(
    world: World, tmp_path: os.PathLike[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.adapters.test_google import _service_account

    key = _service_account(tmp_path)
    info = json.loads(key.read_text())
    del info["client_email"]
    key.write_text(json.dumps(info))
    monkeypatch.setenv("GOOGLE_SA", str(key))
    world.config.boards["google"].update(indexing=True, service_account_env="GOOGLE_SA")
    world.write(publish_at=TODAY, boards={"google": {}})
    result = await world.sync()
    assert ("announcing failed (google: unusable service-account key file: KeyError)") in " ".join(
        result.notes
    )


async def test_board_reasons_never_carry_a_secret(
    world: World, monkeypatch: pytest.MonkeyPatch, http: respx.MockRouter
) -> None:
    secret = "sk_live_0123456789abcdef"
    monkeypatch.setenv("FAKEBOARD_KEY", secret)
    world.config_path.write_text(
        world.config_path.read_text().replace(
            "[boards.fakeboard]\n", '[boards.fakeboard]\napi_key_env = "FAKEBOARD_KEY"\n'
        )
    )
    world.config.boards["fakeboard"] = {"api_key_env": "FAKEBOARD_KEY"}
    world.board.route.mock(
        side_effect=lambda request: httpx.Response(
            400,
            json={
                "error": "bad request",
                "echo": {"authorization": request.headers["Authorization"], "raw": f"key={secret}"},
            },
        )
    )
    world.write(publish_at=TODAY)
    result = await world.sync()
    assert result.failed and secret not in str(result.failed)
    with world.ledger.engine.begin() as conn:
        dump = "\n".join(
            str(tuple(row))
            for table in ("events", "listings", "due_work")
            for row in conn.exec_driver_sql(f"SELECT * FROM {table}")
        )
    assert secret not in dump and "[redacted]" in dump
    import publisher.engine_cli  # noqa: F401  (registers the engine's commands)

    for args in (["status"], ["status", "--json"], ["history", "data-analyst"]):
        out = CliRunner().invoke(cli, ["--config", str(world.config_path), *args]).output
        assert secret not in out and "[redacted]" in out, args


def test_a_batch_with_one_bad_outcome_records_the_rest(world: World) -> None:
    from tests.factories import make_posting

    ledger = world.ledger
    ledger.save_postings([(make_posting(id=p), "file", None, None) for p in ("a", "b")], NOW)
    ledger.add_listings([("a", "fakeboard", "ra"), ("b", "fakeboard", "rb")], NOW)
    rows = {r.posting_id: r for r in ledger.listings()}
    ledger.enqueue(
        [
            {
                "listing_id": r.id,
                "kind": "post",
                "reason": "new",
                "due_at": NOW,
                "ref": r.external_ref,
                "revision": 1,
                "version": 0,
            }
            for r in rows.values()
        ],
        [],
        NOW,
    )
    claimed, _ = ledger.claim("me", NOW)
    work = {w.listing_id: w.id for w in claimed}
    bad_date = NOW.replace(tzinfo=None)  # the ledger refuses it (as an overflow would be)
    notes = ledger.record(
        [
            Outcome(
                work[rows["a"].id],
                rows["a"].id,
                {"state": "live", "board_id": "1", "posted_at": NOW},
                {"state": "done"},
            ),
            Outcome(
                work[rows["b"].id],
                rows["b"].id,
                {"state": "live", "board_id": "2", "posted_at": NOW, "expires_at": bad_date},
                {"state": "done"},
            ),
        ]
    )
    assert len(notes) == 1 and notes[0].startswith(f"listing #{rows['b'].id}: recorded partly")
    after = {r.posting_id: r for r in ledger.listings()}
    assert (after["a"].state, after["a"].board_id, after["a"].last_error) == ("live", "1", None)
    assert (after["b"].state, after["b"].board_id) == ("live", "2")  # the call is not lost
    assert (after["b"].last_error or "").startswith("recorded partly")
    assert ledger.claim("me", NOW + timedelta(hours=1)) == ([], [])  # nothing left running


async def test_a_create_found_after_an_edit_is_brought_to_the_new_revision(world: World) -> None:
    """Found by the chaos test: a create stored under revision 1, its answer lost, then the
    posting edited: the lookup finds the job and the new title is sent, not dropped."""
    world.write(publish_at=TODAY)
    world.board.fail_next("timeout-after", "503", "503", "503", "503")
    result = await world.sync()
    assert world.actions(result) == [("data-analyst", "fakeboard", "post", "pending")]
    world.write(publish_at=TODAY, title="Senior Data Analyst")
    world.clock.advance(minutes=5)
    await world.sync()
    assert [(j["id"], j["title"]) for j in world.board.live()] == [("1001", "Senior Data Analyst")]
    listing = world.listing()
    assert (listing.state, listing.board_id, listing.revision) == ("live", "1001", 2)
    assert world.board.calls[-2:] == [("GET", "/v1/jobs"), ("PUT", "/v1/jobs/1001")]


async def test_a_manual_expire_that_must_wait_keeps_its_key(
    world: World, hook: respx.Route
) -> None:
    """The board answers 503 to jobpub expire's withdraw; the next sync sends the same unit
    of work again, under the same key (the plan continues it, never replaces it)."""
    world.write(publish_at=TODAY, boards={"webhook": {}})
    await world.sync()
    hook.side_effect = [httpx.Response(503)] * 5 + [httpx.Response(200, json={"id": "w-1"})]
    engine = world.engine()
    await engine.expire_now("data-analyst")
    await engine.aclose()
    assert world.listing(board="webhook").state == "live"  # not through yet
    world.clock.advance(minutes=10)
    await world.sync()
    ref = "jobpub-data-analyst-webhook"
    assert _sent(hook)[1:] == [("withdraw", f"{ref}:expire:r1:1")] * 6
    assert world.listing(board="webhook").state == "expired"
