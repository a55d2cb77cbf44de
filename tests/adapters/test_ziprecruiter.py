"""ZipRecruiter: golden job bodies, percent-encoded ids, Basic auth, "already exists" taken
as ours, and what validate refuses (the engine's run: tests/engine/test_ziprecruiter_engine.py;
the conformance kit: tests/test_conformance.py)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import respx
from click.testing import CliRunner

from adapters.ziprecruiter import ZipRecruiterAdapter
from publisher.adapter import Receipt
from publisher.cli import cli
from publisher.errors import BoardRejected, NotOnBoard
from tests.adapters.helpers import adapter_for, example, golden
from tests.factories import ROOT, posting_text
from tests.ziprecruiterdouble import API, KEY


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZIPRECRUITER_API_KEY", KEY)


def ziprecruiter(client: httpx.AsyncClient | None = None) -> ZipRecruiterAdapter:
    adapter = adapter_for("ziprecruiter", client)
    assert isinstance(adapter, ZipRecruiterAdapter)
    return adapter


@pytest.mark.parametrize(
    "name",
    ["warehouse-associate", "remote-customer-support-specialist", "ecommerce-operations-manager"],
)
def test_job_bodies_are_the_golden_ones(name: str) -> None:
    payload = ziprecruiter().to_payload(example(name), f"jobpub-{name}-ziprecruiter")
    assert payload == golden("ziprecruiter", name, payload)
    assert payload["job_id"] == f"jobpub-{name}-ziprecruiter"


async def test_ids_are_percent_encoded_and_an_existing_job_is_ours(http: respx.MockRouter) -> None:
    created = http.post(f"{API}/job").respond(400, json={"error": "job_id already exists"})
    put = http.put(f"{API}/job/jobpub%2Fx%C3%A9-ziprecruiter").respond(
        200, json={"job_id": "jobpub/xé-ziprecruiter", "status": "open"}
    )
    async with httpx.AsyncClient() as client:
        receipt = await ziprecruiter(client).publish(
            example("ecommerce-operations-manager"), "jobpub/xé-ziprecruiter"
        )
    assert created.call_count == 1 and put.call_count == 1
    assert put.calls[0].request.headers["Authorization"] == f"Basic {KEY}"
    assert json.loads(put.calls[0].request.content)["job_title"] == "E-commerce Operations Manager"
    assert receipt == Receipt(
        "ziprecruiter", "jobpub/xé-ziprecruiter", "jobpub/xé-ziprecruiter", None
    )


async def test_a_refusal_that_mentions_existence_is_a_refusal(http: respx.MockRouter) -> None:
    http.post(f"{API}/job").respond(400, json={"error": "category does not exist"})
    put = http.put(url__startswith=f"{API}/job/").respond(200, json={})
    async with httpx.AsyncClient() as client:
        with pytest.raises(BoardRejected, match="category does not exist"):
            await ziprecruiter(client).publish(example("warehouse-associate"), "ref-1")
    assert not put.called


async def test_a_closed_job_is_not_found_and_closing_twice_is_fine(http: respx.MockRouter) -> None:
    read = http.get(f"{API}/job/ref-1").respond(200, json={"job_id": "ref-1", "status": "closed"})
    gone = http.delete(f"{API}/job/ref-1").respond(404, json={"error": "job not found"})
    async with httpx.AsyncClient() as client:
        adapter = ziprecruiter(client)
        assert await adapter.lookup("ref-1") is None
        with pytest.raises(NotOnBoard, match="job not found"):  # the engine: withdrawn
            await adapter.withdraw(Receipt("ziprecruiter", "ref-1", "ref-1"))
    assert read.called and gone.called


def test_validate_refuses_a_job_outside_its_countries(tmp_path: Path) -> None:
    text = (
        posting_text()
        .replace("indeed_feed: {}", "ziprecruiter: {}")
        .replace("country: US", "country: GB")
        .replace("region: CO", "region: LND")
    )
    path = tmp_path / "data-analyst.yaml"
    path.write_text(text)
    found = CliRunner().invoke(
        cli,
        ["--config", str(ROOT / "config/jobpub.toml"), "validate", "--format", "json", str(path)],
    )
    problems = json.loads(found.stdout)["problems"]
    rule = [p for p in problems if p["rule"] == "board-rule"]
    assert found.exit_code == 1 and rule, problems
    assert rule[0]["board"] == "ziprecruiter" and rule[0]["line"] is not None
    assert "GB" in rule[0]["message"]
