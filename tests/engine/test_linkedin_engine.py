"""LinkedIn through the engine, on SQLite and PostgreSQL: post (a task in progress for two
polls, then done) -> update -> renew -> close, with a restart between submit and poll, a
dropped answer to a create the board stored, a crash after the board took a batch, batches
of more than 100 jobs, and tasks the board never finishes. Every ``sync`` is a new engine
(a new process, as cron runs it); the double counts every job it ever created."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import respx

from publisher.engine_cli import _summary
from publisher.states import ListingState
from tests.conformance import REASON
from tests.engine.world import World
from tests.linkedindouble import API, TOKEN_URL, LinkedInDouble

REF = "jobpub-data-analyst-linkedin"


@pytest.fixture
def li(http: respx.MockRouter, monkeypatch: pytest.MonkeyPatch, world: World) -> LinkedInDouble:
    monkeypatch.setenv("LINKEDIN_CLIENT_ID", "client-77")
    monkeypatch.setenv("LINKEDIN_CLIENT_SECRET", "linkedin-secret-value-9")
    double = LinkedInDouble()
    http.post(TOKEN_URL).mock(side_effect=double.handle)
    http.route(url__startswith=API).mock(side_effect=double.handle)
    world.config.boards["linkedin"] = {"organization": "2414183"}
    return double


def post(world: World, posting_id: str = "data-analyst", **changes: object) -> None:
    world.write(
        posting_id,
        boards={"linkedin": {}},
        publish_at=date(2026, 11, 26),
        expires_at=date(2027, 8, 31),
        **changes,
    )


async def poll_due(world: World) -> None:
    """Time passes to the next due poll, and cron runs a sync (a new engine)."""
    world.clock.now = min(w.due_at for w in world.ledger.open_work().values())
    await world.sync()


def ops(double: LinkedInDouble) -> list[str]:
    return [e["jobPostingOperationType"] for call in double.calls for e in call["elements"]]


async def test_post_update_renew_close(
    world: World, li: LinkedInDouble, capsys: pytest.CaptureFixture[str]
) -> None:
    li.slow = 2
    post(world)
    _summary(await world.sync())
    assert [line for line in capsys.readouterr().out.splitlines() if not line.startswith("wrote ")][
        :3
    ] == [
        "BOARD           ACTION     DONE  WAITING  RETRY LATER  FAILED",
        "linkedin        post          0        1            0       0",
        "WAITING: taken by the board, which confirms later; later syncs ask it",
    ]
    listing = world.listing(board="linkedin")
    (work,) = world.ledger.open_work().values()
    assert (
        listing.state == ListingState.PENDING
        and work.task_id == "urn:li:simpleJobPostingTask:1-abc"
    )
    assert work.due_at == world.clock.now + timedelta(minutes=5)  # LinkedIn: check after 5 min
    assert work.task_until == world.clock.now + timedelta(days=30)
    for polls in (1, 2):  # in progress twice: still pending, polls further apart each time
        before = world.clock.now
        await poll_due(world)
        (work,) = world.ledger.open_work().values()
        assert world.listing(board="linkedin").state == ListingState.PENDING
        assert work.polls == polls and work.due_at - before > timedelta(minutes=5 * polls)
    await poll_due(world)
    listing = world.listing(board="linkedin")
    assert (listing.state, listing.board_id) == (ListingState.LIVE, "urn:li:jobPosting:2")
    assert listing.url == "https://www.linkedin.com/jobs/view/2"
    assert world.ledger.open_work() == {} and li.polls == 3
    li.slow = 0

    post(world, title="Senior Data Analyst")
    await world.sync()
    assert ops(li) == ["CREATE", "UPDATE"]
    await poll_due(world)
    assert li.content(REF) == "Senior Data Analyst"
    assert world.listing(board="linkedin").state == ListingState.LIVE

    world.clock.now = world.listing(board="linkedin").posted_at + timedelta(days=175)
    await world.sync()
    await poll_due(world)
    assert ops(li)[-1] == "RENEW" and li.jobs[REF][-1]["renewals"] == 1
    assert world.listing(board="linkedin").refresh_count == 1

    (world.postings / "data-analyst.yaml").unlink()
    await world.sync()
    await poll_due(world)
    assert ops(li)[-1] == "CLOSE" and li.open_refs() == {}
    assert world.listing(board="linkedin").state == ListingState.EXPIRED
    assert li.created() == {REF: 1}
    trail = [e.detail for e in world.ledger.history("data-analyst")]
    assert any("still in progress; next poll in" in d for d in trail), trail


async def test_a_dropped_answer_to_a_stored_create_makes_no_second_job(
    world: World, li: LinkedInDouble
) -> None:
    post(world)
    li.fail_next("timeout-after")  # LinkedIn took the batch; its answer never came
    result = await world.sync()
    listing = world.listing(board="linkedin")
    assert listing.reconcile and listing.state == ListingState.SCHEDULED
    assert [d.state for d in result.outcomes] == ["pending"]
    (work,) = world.ledger.open_work().values()
    assert work.due_at == world.clock.now + timedelta(minutes=5)  # once it would have landed
    await poll_due(world)  # the probe: an UPDATE of the same external id
    assert ops(li) == ["CREATE", "UPDATE"]
    await poll_due(world)
    listing = world.listing(board="linkedin")
    assert listing.state == ListingState.LIVE and not listing.reconcile
    assert li.created() == {REF: 1} and li.open_refs() == {REF: 1}
    trail = [e.detail for e in world.ledger.history("data-analyst")]
    assert "the earlier create is on the board: adopted" in trail


async def test_a_create_that_never_arrived_is_made_after_the_probe_fails(
    world: World, li: LinkedInDouble
) -> None:
    post(world)
    li.fail_next("502")  # a gateway error: LinkedIn may or may not have the job
    await world.sync()
    assert world.listing(board="linkedin").reconcile
    await poll_due(world)  # probe UPDATE -> its task fails: the job is not there
    await poll_due(world)
    await world.sync()  # created now
    await poll_due(world)
    assert ops(li) == ["UPDATE", "CREATE"]
    assert world.listing(board="linkedin").state == ListingState.LIVE
    assert li.created() == {REF: 1}


async def test_a_run_killed_after_submitting_is_probed_never_resent(
    world: World, li: LinkedInDouble
) -> None:
    post(world)
    await world.crash()  # submitted, then killed before the task id was recorded
    assert li.calls and world.ledger.open_work()  # the work is left running
    world.clock.advance(hours=1)  # the lease has run out
    await world.sync()  # taken over: a create of unknown fate is probed, never resent...
    (work,) = world.ledger.open_work().values()
    assert work.probe and work.due_at == world.clock.now + timedelta(minutes=5)  # ...once
    await poll_due(world)  # LinkedIn would have processed it
    assert ops(li) == ["CREATE", "UPDATE"]
    await poll_due(world)
    assert world.listing(board="linkedin").state == ListingState.LIVE
    assert li.created() == {REF: 1}


async def test_many_postings_go_in_batches_of_at_most_100_jobs(
    world: World, li: LinkedInDouble
) -> None:
    for n in range(45):  # 45 postings x 3 locations = 135 jobs
        post(
            world,
            f"job-{n:02d}",
            locations=[
                {"country": "US", "city": city, "region": region}
                for city, region in (("Denver", "CO"), ("Boise", "ID"), ("Austin", "TX"))
            ],
        )
    await world.sync()
    sizes = [len(call["elements"]) for call in li.calls]
    assert sum(sizes) == 135 and max(sizes) <= 100 and len(sizes) == 2
    await poll_due(world)
    assert li.polls == 4  # 135 task ids, 40 a request
    rows = [r for r in world.ledger.listings() if r.board == "linkedin"]
    assert {r.state for r in rows} == {ListingState.LIVE}
    assert all(len((r.board_id or "").split()) == 3 for r in rows)
    assert all(n == 1 for n in li.created().values()) and len(li.created()) == 135


async def test_a_task_never_finished_is_given_up_after_its_lifetime(
    world: World, li: LinkedInDouble
) -> None:
    li.slow = 10_000
    post(world)
    await world.sync()
    start = world.clock.now
    while world.ledger.open_work() and world.clock.now - start < timedelta(days=31):
        (work,) = world.ledger.open_work().values()
        if work.task_id is None:
            break
        await poll_due(world)
    (work,) = world.ledger.open_work().values()
    assert work.task_id is None and world.clock.now - start >= timedelta(days=30)
    assert li.polls < 140  # doubling to 6 h: not a poll a minute for 30 days
    assert world.listing(board="linkedin").reconcile  # the next run probes, never resends
    li.slow = 0
    await world.sync()  # asks the board 5 minutes on whether the create arrived
    await poll_due(world)
    assert ops(li) == ["CREATE", "UPDATE"]
    await poll_due(world)
    assert world.listing(board="linkedin").state == ListingState.LIVE
    assert li.created() == {REF: 1}


async def test_an_expired_token_is_refreshed_once(
    world: World, li: LinkedInDouble, http: respx.MockRouter
) -> None:
    post(world)
    li.fail_next("401")  # 65602: the token expired
    await world.sync()
    await poll_due(world)
    # 2 tokens in the first run (the refused one, then a new one), 1 in the polling run
    assert li.tokens == 3 and world.listing(board="linkedin").state == ListingState.LIVE
    assert not any(
        "token-" in e.detail or "linkedin-secret" in e.detail
        for e in world.ledger.history("data-analyst")
    )
    token_calls = [c for c in http.calls if str(c.request.url) == TOKEN_URL]
    assert len(token_calls) == 3 and all(
        b"client_secret=linkedin-secret-value-9" in c.request.content for c in token_calls
    )


async def test_a_location_dropped_by_an_edit_closes_its_job(
    world: World, li: LinkedInDouble
) -> None:
    two = [
        {"country": "US", "city": "Denver", "region": "CO"},
        {"country": "US", "city": "Boise", "region": "ID"},
    ]
    post(world, locations=two)
    await world.sync()
    await poll_due(world)
    assert li.open_refs() == {REF: 1, f"{REF}~2": 1}
    assert len(world.listing(board="linkedin").board_id.split()) == 2
    post(world, locations=two[:1])
    await world.sync()
    await poll_due(world)
    assert ops(li)[-2:] == ["UPDATE", "CLOSE"] and li.open_refs() == {REF: 1}
    listing = world.listing(board="linkedin")
    assert listing.state == ListingState.LIVE and listing.board_id == li.jobs[REF][0]["urn"]
    (world.postings / "data-analyst.yaml").unlink()
    await world.sync()
    await poll_due(world)
    assert ops(li)[-1:] == ["CLOSE"] and li.open_refs() == {}  # one CLOSE: one job left


async def test_a_linkedin_job_closed_on_linkedin_is_expired_not_failed(
    world: World, li: LinkedInDouble
) -> None:
    post(world)
    await world.sync()
    world.clock.advance(minutes=6)
    await world.sync()
    assert world.listing(board="linkedin").state == ListingState.LIVE
    li.jobs[REF][-1]["open"] = False  # closed on LinkedIn
    (world.postings / "data-analyst.yaml").unlink()
    await world.sync()  # CLOSE sent; its task fails: the job is not among open jobs
    world.clock.advance(minutes=6)
    result = await world.sync()
    assert [d.state for d in result.outcomes] == ["done"]
    assert world.listing(board="linkedin").state == ListingState.EXPIRED
    assert world.ledger.failing() == 0
    assert world.ledger.history("data-analyst")[-1].detail == (
        f"already closed on the board (Job {REF} is not among open jobs): counted as withdrawn"
    )


async def test_a_batch_refused_for_now_goes_again_by_the_one_retry_policy(
    world: World, li: LinkedInDouble
) -> None:
    """A batch board's call is retried as a single call is: waiting what Retry-After says,
    with a retry event per element, then settled element by element."""
    post(world)
    li.fail_next("503:3", "429:7")
    result = await world.sync()
    assert world.clock.sleeps == [3.0, 7.0] and [d.state for d in result.outcomes] == ["waiting"]
    trail = [(e.outcome, e.detail) for e in world.ledger.history("data-analyst")]
    assert trail[-3:-1] == [
        ("retry", f'{{"error":"{REASON} (503)"}}; retrying in 3.0 s'),
        ("retry", f'{{"error":"{REASON} (429)"}}; retrying in 7.0 s'),
    ]
    assert ops(li) == ["CREATE"]


async def test_a_batch_board_told_to_wait_long_comes_back_then(
    world: World, li: LinkedInDouble
) -> None:
    post(world)
    li.fail_next("429:900")  # longer than a worker is held: back to the ledger
    await world.sync()
    (work,) = world.ledger.open_work().values()
    assert world.clock.sleeps == [] and work.due_at == world.clock.now + timedelta(seconds=900)
    assert world.listing(board="linkedin").state == ListingState.SCHEDULED and ops(li) == []


async def test_each_element_of_a_batch_has_its_own_ok_event(
    world: World, li: LinkedInDouble
) -> None:
    post(world)
    post(world, "data-engineer")
    await world.sync()
    await poll_due(world)
    for posting in ("data-analyst", "data-engineer"):
        said = [(e.action, e.outcome) for e in world.ledger.history(posting)]
        assert said.count(("post", "ok")) == 2, said  # taken as a task, then done
