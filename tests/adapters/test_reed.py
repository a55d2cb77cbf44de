"""Reed: the request signature against a vector computed by hand, the description without
contact details, the preview with its signed headers left out, re-posting before day 42 (or
not), and what validate refuses (the kit's run: tests/test_conformance.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import respx
from click.testing import CliRunner

from adapters.reed import USER_AGENT, ReedAdapter, without_contacts
from publisher import clock
from publisher.adapter import Receipt
from publisher.cli import cli
from publisher.errors import BoardRejected
from tests.adapters.helpers import adapter_for, example
from tests.factories import ROOT, posting_text
from tests.reeddouble import API, CLIENT, KEY

WHEN = datetime(2026, 11, 28, 9, 15, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REED_CLIENT_ID", CLIENT)
    monkeypatch.setenv("REED_API_KEY", KEY)
    monkeypatch.setattr(clock, "now", lambda: WHEN)


def reed(client: httpx.AsyncClient | None = None, **settings: object) -> ReedAdapter:
    adapter = adapter_for("reed", client, username="hr@example.co.uk", **settings)
    assert isinstance(adapter, ReedAdapter)
    return adapter


def test_the_signature_is_the_documented_hmac() -> None:
    url = "https://www.reed.co.uk/recruiter/api/1.0/jobs"
    text = ("POST" + USER_AGENT + url + "www.reed.co.uk" + "2026-11-28T09:15:30Z").encode()
    by_hand = base64.b64encode(hmac.new(b"reed-api-key-0f3b", text, hashlib.sha1).digest())
    headers = reed().signed("POST", url)
    assert headers == {
        "X-ApiClientId": CLIENT,
        "X-Timestamp": "2026-11-28T09:15:30Z",
        "X-ApiSignature": by_hand.decode(),
        "User-Agent": USER_AGENT,
    }


def test_contact_details_are_left_out_of_what_reed_gets() -> None:
    assert (
        without_contacts(
            "Mail jobs@example.co.uk or call +44 20 7946 0958, see "
            "https://example.co.uk/apply or www.example.co.uk today."
        )
        == "Mail or call , see or today."
    )
    body = reed().to_payload(example("ecommerce-operations-manager"))
    assert "https://" not in body["description"] and "@" not in body["description"]
    assert 150 <= len(body["description"]) <= 6500 and body["expiryInDays"] == 42


def test_the_preview_shows_the_request_but_not_its_signature() -> None:
    shown = json.loads(reed().preview(example("ecommerce-operations-manager")))
    assert shown["method"] == "POST" and shown["url"] == f"{API}/jobs"
    assert set(shown["headers"].values()) == {"[signed at send time]"}
    assert shown["body"]["username"] == "hr@example.co.uk"


async def test_a_long_posting_is_reposted_and_a_lost_repost_is_not_repeated(
    http: respx.MockRouter,
) -> None:
    closed = http.delete(f"{API}/jobs/50001").respond(200, json={})
    closed_new = http.delete(f"{API}/jobs/50002").respond(200, json={})
    posted = http.post(f"{API}/jobs").mock(
        side_effect=[httpx.Response(201, json={"jobId": 50002}), httpx.ReadTimeout("lost")]
    )
    posting, receipt = example("ecommerce-operations-manager"), Receipt("reed", "r", "50001")
    async with httpx.AsyncClient() as client:
        again = await reed(client).refresh(posting, receipt)
        assert again.board_id == "50002" and closed.call_count == 1
        with pytest.raises(BoardRejected, match="check the board"):
            await reed(client).refresh(posting, again)
        assert await reed(client, repost=False).refresh(posting, again) is again
    assert posted.call_count == 2 and closed_new.call_count == 1


def test_validate_refuses_a_job_outside_the_uk(tmp_path: Path) -> None:
    path = tmp_path / "data-analyst.yaml"
    path.write_text(posting_text().replace("indeed_feed: {}", "reed: {}"))
    config = tmp_path / "jobpub.toml"
    config.write_text(
        (ROOT / "config/jobpub.toml").read_text()
        + '\n[boards.reed]\nusername = "hr@example.co.uk"\n'
    )
    found = CliRunner().invoke(
        cli, ["--config", str(config), "validate", "--format", "json", str(path)]
    )
    rule = [p for p in json.loads(found.stdout)["problems"] if p["rule"] == "board-rule"]
    assert found.exit_code == 1 and rule and rule[0]["board"] == "reed"
    assert rule[0]["line"] is not None and "US" in " ".join(p["message"] for p in rule)
