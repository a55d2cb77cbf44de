"""Indeed Job Sync: the exact GraphQL request (golden), pay in minor units, GraphQL errors
inside a 200 mapped per code, the 5-second timeout, and what validate refuses: a title over
75, the XML feed board named too, a job page other than the page board's (the kit's run:
tests/test_conformance.py; the engine's: tests/engine/test_indeed_engine.py)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import respx
from click.testing import CliRunner

from adapters.indeed import IndeedAdapter, minor
from publisher.cli import cli
from publisher.errors import BoardAuthError, BoardRejected, BoardUnavailable
from tests.adapters.helpers import adapter_for, example, golden
from tests.factories import ROOT, posting_text
from tests.indeeddouble import API, TOKEN_URL


@pytest.fixture(autouse=True)
def _client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INDEED_CLIENT_ID", "indeed-client")
    monkeypatch.setenv("INDEED_CLIENT_SECRET", "indeed-secret-5772")


def indeed(client: httpx.AsyncClient | None = None, **settings: object) -> IndeedAdapter:
    adapter = adapter_for("indeed", client, source_name="Northwind careers", **settings)
    assert isinstance(adapter, IndeedAdapter)
    return adapter


def test_the_request_is_the_golden_graphql_document_and_variables() -> None:
    adapter = indeed(job_url="https://careers.northwind.example/jobs/{id}.html")
    request = adapter.to_payload(example("ecommerce-operations-manager"))
    assert request == golden("indeed", "ecommerce-operations-manager", request)
    assert request["operationName"] == "CreateSourcedJobPostings"
    assert request["query"].startswith("mutation CreateSourcedJobPostings(")
    (job,) = request["variables"]["input"]["jobPostings"]
    assert job["body"]["descriptionFormatting"] == "RICH_FORMATTING"
    assert (
        job["metadata"]["url"]
        == "https://careers.northwind.example/jobs/ecommerce-operations-manager.html"
    )


def test_pay_is_in_minor_units_never_zero() -> None:
    assert (minor(19.5, "USD"), minor(4_500_000, "JPY"), minor(1.25, "KWD")) == (
        1950,
        4_500_000,
        1250,
    )
    salary = indeed().job_input(example("ecommerce-operations-manager"), "r")["body"]["salary"]
    assert salary["minimumMinor"] > 0 and salary["period"] == "YEAR"


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("BAD_USER_INPUT", BoardRejected),
        ("UNAUTHENTICATED", BoardAuthError),
        ("FORBIDDEN", BoardAuthError),
        ("DOWNSTREAM_SERVICE_ERROR", BoardUnavailable),
        ("INTERNAL_SERVER_ERROR", BoardUnavailable),
    ],
)
async def test_graphql_errors_inside_a_200_are_the_jobs_own(
    http: respx.MockRouter, code: str, error: type[Exception]
) -> None:
    http.post(TOKEN_URL).respond(200, json={"access_token": "t", "expires_in": 3600})
    route = http.post(f"{API}/graphql").respond(
        200,
        json={
            "data": {
                "jobsIngest": {"createSourcedJobPostings": {"results": [{"jobPosting": None}]}}
            },
            "errors": [{"message": "description is too short", "extensions": {"code": code}}],
        },
    )
    async with httpx.AsyncClient() as client:
        with pytest.raises(error, match=f"{code}: description is too short"):
            await indeed(client).publish(example("ecommerce-operations-manager"), "ref-1")
    assert route.called


def test_the_board_asks_for_a_five_second_timeout() -> None:
    assert IndeedAdapter.timeout == 5.0


def _validate(tmp_path: Path, text: str, extra: str = "") -> list[dict[str, object]]:
    path = tmp_path / "data-analyst.yaml"
    path.write_text(text)
    config = tmp_path / "jobpub.toml"
    config.write_text(
        (ROOT / "config/jobpub.toml").read_text()
        + f'\n[boards.indeed]\nsource_name = "Example careers"\n{extra}'
    )
    found = CliRunner().invoke(
        cli, ["--config", str(config), "validate", "--format", "json", str(path)]
    )
    return [p for p in json.loads(found.stdout)["problems"] if p["rule"] == "board-rule"]


def test_validate_refuses_both_indeed_boards_and_a_long_title(tmp_path: Path) -> None:
    text = (
        posting_text()
        .replace("indeed_feed: {}", "indeed_feed: {}\n  indeed: {}")
        .replace("title: Data Analyst", "title: " + "Senior Data Analyst" * 5)
    )
    found = _validate(tmp_path, text)
    messages = [(p["board"], p["message"]) for p in found]
    assert (
        "indeed",
        "the posting names both indeed and indeed_feed: the board would get the "
        "job twice; keep one",
    ) in messages
    assert any(board == "indeed" and "title is 95 characters" in m for board, m in messages)
    assert all(p["line"] is not None for p in found)


def test_validate_refuses_a_job_page_other_than_the_page_boards(tmp_path: Path) -> None:
    text = posting_text().replace("indeed_feed: {}", "google: {}\n  indeed: {}")
    found = _validate(tmp_path, text, 'job_url = "https://elsewhere.example/{id}"\n')
    assert [p["board"] for p in found] == ["indeed"]
    assert "publishes the job page at https://careers.northwind.example/jobs/data-analyst" in str(
        found[0]["message"]
    )
