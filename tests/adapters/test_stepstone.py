"""StepStone: the XML document (golden), its answers' status codes mapped as its table says,
hostile XML answers refused by defusedxml, a new reference for each publication, and what
validate refuses (the kit's run: tests/test_conformance.py)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from click.testing import CliRunner

from adapters.stepstone import StepStoneAdapter, reference
from publisher.adapter import Receipt
from publisher.cli import cli
from publisher.errors import BoardRejected, BoardUnavailable, OutcomeUnknown
from tests.adapters.helpers import adapter_for, example, golden_bytes
from tests.factories import ROOT
from tests.stepstonedouble import PASSWORD, URL, USER, answer


@pytest.fixture(autouse=True)
def _login(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEPSTONE_USERNAME", USER)
    monkeypatch.setenv("STEPSTONE_PASSWORD", PASSWORD)


def stepstone(client: httpx.AsyncClient | None = None, **settings: str) -> StepStoneAdapter:
    adapter = adapter_for("stepstone", client, url=URL, **settings)
    assert isinstance(adapter, StepStoneAdapter)
    return adapter


def test_the_document_is_the_golden_one() -> None:
    document = stepstone(organisation_id="321").preview(example("ecommerce-operations-manager"))
    assert document.encode() == golden_bytes(
        "stepstone", "ecommerce-operations-manager.xml", document.encode()
    )
    assert 'reference_id="jobpub-ecommerce-operations-manager-stepstone"' in document
    assert 'action="INSERT"' in document and 'organisation_id="321"' in document


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (204, BoardRejected),
        (320, BoardRejected),
        (403, BoardRejected),
        (209, BoardUnavailable),
        (210, BoardUnavailable),
        (220, BoardUnavailable),
        (408, BoardUnavailable),
        (500, BoardUnavailable),
    ],
)
async def test_status_codes_are_fix_and_resend_or_resend_hourly(
    http: respx.MockRouter, code: int, error: type[Exception]
) -> None:
    route = http.post(URL).mock(return_value=answer(code, f"status {code}"))
    async with httpx.AsyncClient() as client:
        with pytest.raises(error) as raised:
            await stepstone(client).publish(example("ecommerce-operations-manager"), "ref-1")
    assert route.called and f"StepStone status {code}" in str(raised.value)
    if error is BoardUnavailable:
        assert raised.value.retry_after == 3600.0  # type: ignore[attr-defined]


async def test_hostile_or_foreign_answers_are_a_clear_unknown(http: respx.MockRouter) -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
        "<jobfeedresponse><statuscode>&b;</statuscode></jobfeedresponse>"
    )
    http.post(URL).mock(
        side_effect=[
            httpx.Response(200, text=bomb),
            httpx.Response(200, text="Sender_ID=1;StatusCode=100;"),
        ]
    )
    async with httpx.AsyncClient() as client:
        for _ in range(2):
            with pytest.raises(OutcomeUnknown, match="not a StepStone XML response"):
                await stepstone(client).publish(example("ecommerce-operations-manager"), "r")


async def test_each_publication_has_its_own_reference_and_close_uses_it(
    http: respx.MockRouter,
) -> None:
    route = http.post(URL).mock(side_effect=lambda r: answer(100, "OK", "x", "12738", "OK"))
    posting = example("ecommerce-operations-manager")
    async with httpx.AsyncClient() as client:
        adapter = stepstone(client)
        first = await adapter.publish(posting, "ref", key="ref:post:r1:1")
        again = await adapter.publish(posting, "ref", key="ref:post:r4:2/r5")
        await adapter.withdraw(again)
    sent = [parse_qs(c.request.content.decode())["xml"][0] for c in route.calls]
    assert 'reference_id="ref" action="INSERT"' in sent[0]
    assert 'reference_id="ref.2" action="INSERT"' in sent[1]
    assert 'reference_id="ref.2" action="OFFLINE"' in sent[2]
    assert (first.board_id, again.board_id) == ("ref", "ref.2")
    assert (
        again.url == "https://www.stepstone.de/5/index.cfm?event=offerView."
        "dspOfferInline&offerId=12738"
    )
    assert reference("ref", "ref:post:r1:1") == "ref" and reference("ref", "") == "ref"
    assert again == Receipt("stepstone", "ref", "ref.2", again.url)


def test_validate_refuses_more_than_one_location(tmp_path: Path) -> None:
    text = (ROOT / "postings/warehouse-associate.yaml").read_text()
    path = tmp_path / "warehouse-associate.yaml"
    path.write_text(text.split("\nboards:")[0] + "\nboards:\n  stepstone: {}\n")
    found = CliRunner().invoke(
        cli,
        ["--config", str(ROOT / "config/jobpub.toml"), "validate", "--format", "json", str(path)],
    )
    rule = [p for p in json.loads(found.stdout)["problems"] if p["rule"] == "board-rule"]
    assert found.exit_code == 1 and rule and rule[0]["board"] == "stepstone"
    assert rule[0]["line"] is not None
