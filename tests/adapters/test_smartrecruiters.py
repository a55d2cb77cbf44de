"""SmartRecruiters: golden job bodies, the JSON Patch of an update, what validate refuses,
and a create that repeats itself caught by the conformance kit (the kit's run of the real
adapter: tests/test_conformance.py)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import httpx
import pytest
import respx
from click.testing import CliRunner

from adapters.smartrecruiters import SmartRecruitersAdapter
from publisher.adapter import Receipt
from publisher.cli import cli
from publisher.registry import boards
from publisher.schema import Posting
from tests.adapters.helpers import adapter_for, example, golden
from tests.conformance import check_api_board
from tests.engine.world import FakeClock, World
from tests.factories import NOW, ROOT
from tests.fakeboard import FakeBoard, FakeBoardAdapter
from tests.smartrecruitersdouble import API, TOKEN, SmartRecruitersDouble

IDS = {"industry": "47", "function": "information_technology"}


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTRECRUITERS_API_KEY", TOKEN)


def smartrecruiters(client: httpx.AsyncClient | None = None) -> SmartRecruitersAdapter:
    adapter = adapter_for("smartrecruiters", client, **IDS)
    assert isinstance(adapter, SmartRecruitersAdapter)
    return adapter


@pytest.mark.parametrize(
    "name", ["remote-customer-support-specialist", "ecommerce-operations-manager"]
)
def test_job_bodies_are_the_golden_ones(name: str) -> None:
    payload = smartrecruiters().to_payload(example(name), f"jobpub-{name}-smartrecruiters")
    assert payload == golden("smartrecruiters", name, payload)
    assert payload["industry"] == {"id": "47"} and payload["refNumber"].endswith(
        name + "-smartrecruiters"
    )


def test_without_its_account_ids_the_board_is_not_configured() -> None:
    adapter = adapter_for("smartrecruiters")
    assert adapter.missing_credentials() == ["industry", "function"]


async def test_an_update_is_a_json_patch_of_the_job(http: respx.MockRouter) -> None:
    route = http.patch(f"{API}/jobs/1001").respond(200, json={"id": "1001"})
    async with httpx.AsyncClient() as client:
        receipt = await smartrecruiters(client).update(
            example("ecommerce-operations-manager"),
            Receipt("smartrecruiters", "jobpub-x-smartrecruiters", "1001"),
            key="k",
        )
    request = route.calls[0].request
    assert request.headers["Content-Type"] == "application/json-patch+json"
    assert request.headers["X-SmartToken"] == TOKEN
    ops = json.loads(request.content)
    assert [(o["op"], o["path"]) for o in ops] == [
        ("replace", "/title"),
        ("replace", "/location"),
        ("replace", "/experienceLevel"),
        ("replace", "/typeOfEmployment"),
        ("replace", "/jobAd"),
    ]
    assert receipt.board_id == "1001"


def test_validate_refuses_more_than_one_location(tmp_path: Path) -> None:
    text = (ROOT / "postings/warehouse-associate.yaml").read_text()
    path = tmp_path / "warehouse-associate.yaml"
    path.write_text(text.split("\nboards:")[0] + "\nboards:\n  smartrecruiters: {}\n")
    config = tmp_path / "jobpub.toml"
    config.write_text(
        (ROOT / "config/jobpub.toml").read_text()
        + '\n[boards.smartrecruiters]\nindustry = "47"\nfunction = "it"\n'
    )
    found = CliRunner().invoke(
        cli, ["--config", str(config), "validate", "--format", "json", str(path)]
    )
    rule = [p for p in json.loads(found.stdout)["problems"] if p["rule"] == "board-rule"]
    assert found.exit_code == 1 and rule and rule[0]["board"] == "smartrecruiters"
    assert rule[0]["line"] is not None and "location" in rule[0]["message"]


class CreatesAgain(SmartRecruitersAdapter):
    """Publishes by always making a new job (forgets the one an earlier attempt made)."""

    async def publish(self, posting: Posting, ref: str, *, key: str | None = None) -> Receipt:
        response = await self.client.post(
            f"{self.base_url}/jobs", headers=self._headers(), json=self.to_payload(posting, ref)
        )
        self.raise_for_status(response)
        return await self._publish(str(self.json_object(response)["id"]), ref)


async def test_the_kit_catches_a_create_made_twice(
    http: respx.MockRouter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    double = SmartRecruitersDouble()
    http.route(url__startswith=API).mock(side_effect=lambda r: double.handle(r))
    monkeypatch.setitem(boards(), "fakeboard", FakeBoardAdapter)
    monkeypatch.setitem(boards(), "smartrecruiters", CreatesAgain)
    counter = itertools.count()

    def world() -> World:
        n = next(counter)
        made = World(
            tmp_path / f"w{n}", f"sqlite:///{tmp_path}/l{n}.db", FakeClock(NOW), FakeBoard(None)
        )
        made.config.boards["smartrecruiters"] = IDS
        return made

    def fresh() -> SmartRecruitersDouble:
        double.__init__()  # type: ignore[misc]
        return double

    found = await check_api_board(world, fresh, "smartrecruiters")
    assert any("a create stored by the board whose answer was lost left 2" in p for p in found), (
        found
    )
