"""LinkedIn: golden batch bodies, external ids, answers inside a 200, task polling, the
conformance kit against the double of its documented API, and what a recruiter sees
(``boards``, ``preview``, ``validate``)."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from click.testing import CliRunner

from adapters.linkedin import LinkedInAdapter, job_id
from publisher import clock
from publisher.adapter import ApiAdapter, Receipt, Reconcile, Submission
from publisher.cli import cli
from publisher.errors import BoardAuthError, BoardRejected, BoardUnavailable, OutcomeUnknown
from publisher.registry import boards
from tests.adapters.helpers import adapter_for, example, golden
from tests.conformance import check_api_board
from tests.engine.world import FakeClock, World
from tests.factories import NOW, ROOT
from tests.fakeboard import FakeBoard, FakeBoardAdapter
from tests.linkedindouble import API, TOKEN_URL, LinkedInDouble

LISTED = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINKEDIN_CLIENT_ID", "client-77")
    monkeypatch.setenv("LINKEDIN_CLIENT_SECRET", "linkedin-secret-value-9")


@pytest.fixture
def double(http: respx.MockRouter) -> LinkedInDouble:
    made = LinkedInDouble()
    http.post(TOKEN_URL).mock(side_effect=made.handle)
    http.route(url__startswith=API).mock(side_effect=made.handle)
    return made


def linkedin(client: httpx.AsyncClient | None = None, **settings: Any) -> LinkedInAdapter:
    adapter = adapter_for("linkedin", client, **settings)
    assert isinstance(adapter, LinkedInAdapter)
    return adapter


@pytest.mark.parametrize(
    "name",
    ["warehouse-associate", "remote-customer-support-specialist", "ecommerce-operations-manager"],
)
def test_create_bodies_are_the_golden_ones(name: str) -> None:
    payload = linkedin(organization="2414183").to_payload(example(name), listed_at=LISTED)
    assert payload == golden("linkedin", name, payload)
    for element in payload["elements"]:
        assert len(element["externalJobPostingId"]) <= 75
        assert 100 <= len(element["description"]) <= 25_000
        assert element["listedAt"] == 1795167000000  # epoch milliseconds, UTC
        assert element["integrationContext"] == "urn:li:organization:2414183"


def test_one_job_per_location_each_with_its_own_id() -> None:
    payload = linkedin().to_payload(example("warehouse-associate"), listed_at=LISTED)
    jobs = payload["elements"]
    assert [j["location"] for j in jobs] == [
        "Denver, Colorado",
        "Salt Lake City, Utah",
        "Phoenix, Arizona",
    ]
    assert [j["externalJobPostingId"] for j in jobs] == [
        "jobpub-warehouse-associate-linkedin",
        "jobpub-warehouse-associate-linkedin~2",
        "jobpub-warehouse-associate-linkedin~3",
    ]
    assert all(j["companyName"] == "Northwind Outfitters" for j in jobs)  # no organization


def test_a_fully_remote_job_names_the_headquarters_or_its_country() -> None:
    posting = example("remote-customer-support-specialist")
    (job,) = linkedin(headquarters=None).to_payload(posting, listed_at=LISTED)["elements"]
    assert job["workRemoteAllowed"] is True and job["location"] == "United States"
    (job,) = linkedin(headquarters="Boise, Idaho").to_payload(posting, listed_at=LISTED)["elements"]
    assert job["location"] == "Boise, Idaho"


def test_long_references_get_a_stable_short_id_of_their_own() -> None:
    long_a = "jobpub-" + "a" * 64 + "-linkedin"
    long_b = "jobpub-" + "a" * 63 + "b-linkedin"
    assert job_id("jobpub-x-linkedin") == "jobpub-x-linkedin"
    assert len(job_id(long_a)) <= 71 and len(job_id(long_a, 9)) <= 75
    assert job_id(long_a) == job_id(long_a) and job_id(long_a) != job_id(long_b)
    assert job_id(long_a, 1).endswith("~2")


def test_the_tracking_parameters_tag_the_apply_url() -> None:
    adapter = linkedin(tracking={"utm_source": "linkedin"})
    (job,) = adapter.to_payload(example("ecommerce-operations-manager"), listed_at=LISTED)[
        "elements"
    ]
    assert job["companyApplyUrl"].endswith("utm_source=linkedin")


async def test_each_element_answer_inside_a_200_is_its_own_result(http: respx.MockRouter) -> None:
    http.post(TOKEN_URL).respond(200, json={"access_token": "t-1", "expires_in": 1800})
    route = http.post(f"{API}/simpleJobPostings").respond(
        200,
        json={
            "elements": [
                {"id": "urn:li:simpleJobPostingTask:1", "status": 202},
                {
                    "error": {"message": "ERROR :: /title :: field is required", "status": 422},
                    "status": 422,
                },
                {"error": {"message": "not allowed", "status": 403}, "status": 403},
                {"error": {"message": "busy", "status": 503}, "status": 503},
                {"status": 202},
            ]
        },
    )
    posting = example("ecommerce-operations-manager")
    async with httpx.AsyncClient() as client:
        adapter = linkedin(client)
        subs = [
            Submission("post", posting, Receipt("linkedin", f"jobpub-{n}-linkedin"), f"k{n}")
            for n in range(5)
        ]
        answers = await adapter.submit(subs)
    assert route.call_count == 1
    sent = json.loads(route.calls[0].request.content)
    assert [e["jobPostingOperationType"] for e in sent["elements"]] == ["CREATE"] * 5
    assert route.calls[0].request.headers["X-Restli-Method"] == "batch_create"
    assert isinstance(answers[0], Receipt) and answers[0].task == "urn:li:simpleJobPostingTask:1"
    assert isinstance(answers[1], BoardRejected) and answers[1].status == 422
    assert "/title :: field is required" in answers[1].reason
    assert isinstance(answers[2], BoardAuthError)
    assert isinstance(answers[3], BoardUnavailable)
    assert type(answers[4]) is BoardRejected and "no task id" in answers[4].reason


async def test_an_answer_without_one_result_per_job_is_a_clear_unknown(
    http: respx.MockRouter,
) -> None:
    http.post(TOKEN_URL).respond(200, json={"access_token": "t-1", "expires_in": 1800})
    route = http.post(f"{API}/simpleJobPostings").respond(200, json={"elements": []})
    async with httpx.AsyncClient() as client:
        with pytest.raises(OutcomeUnknown, match="one result per job"):
            await linkedin(client).publish(example("ecommerce-operations-manager"), "ref-1")
    assert route.called


async def test_tasks_are_read_from_results_or_elements(http: respx.MockRouter) -> None:
    http.post(TOKEN_URL).respond(200, json={"access_token": "t-1", "expires_in": 1800})
    route = http.get(f"{API}/simpleJobPostingTasks").mock(
        side_effect=[
            httpx.Response(
                200,
                json={
                    "results": {
                        "urn:t:1": {
                            "id": "urn:t:1",
                            "status": "SUCCEEDED",
                            "jobPosting": "urn:li:jobPosting:91",
                        },
                        "urn:t:2": {"id": "urn:t:2", "status": "IN_PROGRESS"},
                        "urn:t:3": {
                            "id": "urn:t:3",
                            "status": "FAILED",
                            "errorMessage": "Job was dropped:\n Invalid Field: /city;",
                        },
                        "urn:t:4": {
                            "id": "urn:t:4",
                            "status": "SUCCEEDED",
                            "jobPosting": "urn:li:jobPosting:92",
                        },
                    },
                    "statuses": {},
                    "errors": {},
                },
            ),
            httpx.Response(
                200,
                json={
                    "elements": [
                        {"id": "urn:t:5", "status": "PROCESSED", "errorMessage": "bad payload"}
                    ]
                },
            ),
        ]
    )
    async with httpx.AsyncClient() as client:
        adapter = linkedin(client)
        found = await adapter.poll(
            ["urn:t:1", "urn:t:2", "urn:t:3", "urn:t:1 urn:t:4", "urn:t:1 urn:t:2"]
        )
        later = await adapter.poll(["urn:t:5"])
    ids = [v for k, v in route.calls[0].request.url.params.multi_items() if k == "ids"]
    assert ids == ["urn:t:1", "urn:t:2", "urn:t:3", "urn:t:4"]  # one call, each task once
    assert found["urn:t:1"] == Receipt(
        "linkedin", "", "urn:li:jobPosting:91", "https://www.linkedin.com/jobs/view/91"
    )
    assert found["urn:t:2"] is None and found["urn:t:1 urn:t:2"] is None
    assert isinstance(found["urn:t:3"], BoardRejected)
    assert found["urn:t:3"].reason == "Job was dropped: Invalid Field: /city;"
    multi = found["urn:t:1 urn:t:4"]
    assert isinstance(multi, Receipt)
    assert multi.board_id == "urn:li:jobPosting:91 urn:li:jobPosting:92"
    assert isinstance(later["urn:t:5"], BoardRejected)


async def test_an_update_closes_the_jobs_of_dropped_locations(http: respx.MockRouter) -> None:
    http.post(TOKEN_URL).respond(200, json={"access_token": "t-1", "expires_in": 1800})
    route = http.post(f"{API}/simpleJobPostings").respond(
        200, json={"elements": [{"id": f"urn:t:{n}", "status": 202} for n in range(4)]}
    )
    posting = example("warehouse-associate")  # three locations
    receipt = Receipt(
        "linkedin",
        "jobpub-warehouse-associate-linkedin",
        " ".join(f"urn:li:jobPosting:{n}" for n in range(4)),
    )
    tasks = http.get(f"{API}/simpleJobPostingTasks").respond(
        200,
        json={
            "results": {
                f"urn:t:{n}": {
                    "id": f"urn:t:{n}",
                    "status": "SUCCEEDED",
                    "jobPosting": f"urn:li:jobPosting:{n}",
                }
                for n in range(4)
            }
        },
    )
    async with httpx.AsyncClient() as client:
        answer = await linkedin(client).update(posting, receipt, key="k")
        assert isinstance(answer, Receipt) and answer.task is not None
        done = (await linkedin(client).poll([answer.task]))[answer.task]
    sent = json.loads(route.calls[0].request.content)["elements"]
    assert [(e["externalJobPostingId"][-2:], e["jobPostingOperationType"]) for e in sent] == [
        ("in", "UPDATE"),
        ("~2", "UPDATE"),
        ("~3", "UPDATE"),
        ("~4", "CLOSE"),
    ]
    assert answer.task == "urn:t:0 urn:t:1 urn:t:2 -urn:t:3"  # the closed one is marked
    assert tasks.call_count == 1
    assert isinstance(done, Receipt)  # the closed job has left the listing's jobs
    assert done.board_id == "urn:li:jobPosting:0 urn:li:jobPosting:1 urn:li:jobPosting:2"


Kit = tuple[Callable[[], World], Callable[[], LinkedInDouble]]


@pytest.fixture
def kit(double: LinkedInDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Kit:
    """New worlds on fresh SQLite ledgers, and the double made new for each scenario."""
    monkeypatch.setitem(boards(), "fakeboard", FakeBoardAdapter)  # the worlds' config has it
    counter = itertools.count()

    def world() -> World:
        n = next(counter)
        return World(
            tmp_path / f"w{n}",
            f"sqlite:///{tmp_path}/ledger{n}.db",
            FakeClock(NOW),
            FakeBoard(None),
        )

    def fresh() -> LinkedInDouble:
        double.__init__()  # type: ignore[misc]  # the routes keep pointing at it
        return double

    return world, fresh


def test_boards_preview_and_validate_as_a_recruiter_sees_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert boards()["linkedin"].kind == "api" and issubclass(boards()["linkedin"], ApiAdapter)
    monkeypatch.setattr(clock, "now", lambda: LISTED)
    config = str(ROOT / "config/jobpub.toml")
    manager = ROOT / "postings/ecommerce-operations-manager.yaml"
    shown = CliRunner().invoke(
        cli, ["--config", config, "preview", str(manager), "--board", "linkedin"]
    )
    assert shown.exit_code == 0
    posting = example("ecommerce-operations-manager")
    listed = min(posting.publish_time() or LISTED, LISTED)  # never in the future
    expected = linkedin().to_payload(posting, listed_at=listed)
    assert json.loads(shown.stdout) == expected == golden("linkedin", "preview", expected)
    short = (
        manager.read_text().split("\nsummary:")[0]
        + "\nsummary: Lead our store team.\n"
        + "responsibilities:\n  - Run it\nqualifications:\n  - Retail\n"
        + "benefits:\n  - Health insurance\n"
        + "".join(re.findall(r"(?m)^expires_at:.*\n", manager.read_text()))
        + "apply:\n  url: https://example.com/apply\nboards:\n  linkedin: {}\n"
    )
    path = tmp_path / "ecommerce-operations-manager.yaml"
    path.write_text(short)
    found = CliRunner().invoke(cli, ["--config", config, "validate", "--format", "json", str(path)])
    assert found.exit_code == 1
    (problem,) = json.loads(found.stdout)["problems"]
    summary_line = short[: short.index("\nsummary:")].count("\n") + 2  # 1-based, the brief
    assert (problem["rule"], problem["board"], problem["line"]) == (
        "board-rule",
        "linkedin",
        summary_line,
    )
    assert problem["message"].endswith("the board needs at least 100")


class RepeatingLinkedIn(LinkedInAdapter):
    """Sends a lost CREATE again instead of probing with an UPDATE."""

    reconcile = Reconcile.REPEAT


class UnpolledLinkedIn(LinkedInAdapter):
    """Declares tasks, but polls nothing."""

    poll = ApiAdapter.poll  # type: ignore[assignment]


async def test_the_kit_catches_a_repeated_create_and_an_unimplemented_poll(
    kit: Kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(boards(), "linkedin", RepeatingLinkedIn)
    found = await check_api_board(*kit, "linkedin")
    assert any(
        "a create stored by the board whose answer was lost left 2 open" in p for p in found
    ), found
    monkeypatch.setitem(boards(), "linkedin", UnpolledLinkedIn)
    assert await check_api_board(*kit, "linkedin") == [
        "linkedin: declares tasks but does not implement poll()"
    ]


async def test_the_versioned_api_and_every_url_are_settings(http: respx.MockRouter) -> None:
    token = http.post("https://sso.example.test/token").respond(
        200, json={"access_token": "t-9", "expires_in": 1800}
    )
    route = http.post("https://sandbox.example.test/rest/simpleJobPostings").respond(
        200, json={"elements": [{"id": "urn:t:7", "status": 202}]}
    )
    async with httpx.AsyncClient() as client:
        adapter = linkedin(
            client,
            base_url="https://sandbox.example.test",
            token_url="https://sso.example.test/token",
            api_version="202604",
        )
        answer = await adapter.publish(example("ecommerce-operations-manager"), "ref-1")
    assert token.call_count == 1 and answer.task == "urn:t:7"
    sent = route.calls[0].request.headers
    assert (sent["LinkedIn-Version"], sent["Authorization"]) == ("202604", "Bearer t-9")
