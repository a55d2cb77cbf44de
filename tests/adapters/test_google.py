"""Google for Jobs: JSON-LD, pages, sitemap, closing, sanitizing and the Indexing API."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from adapters.careers import labels, say_date
from publisher.adapter import FeedItem
from publisher.errors import BoardAuthError
from tests.adapters.helpers import EXAMPLES, adapter_for, example, golden
from tests.factories import make_posting

BUILT = datetime(2026, 12, 2, tzinfo=UTC)
REQUIRED = {"title", "description", "datePosted", "hiringOrganization"}
RECOMMENDED = {"validThrough", "employmentType", "identifier", "baseSalary", "directApply"}


POSTED = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # the ledger's posted time when no publish_at


def item(name: str) -> FeedItem:
    return FeedItem.of(example(name), timedelta(days=30), POSTED)


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.jsonld = ""
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.jsonld += data
        else:
            self.parts.append(data)


def parse_page(content: bytes) -> tuple[dict[str, Any], str]:
    parser = _Visible()
    parser.feed(content.decode())
    return json.loads(parser.jsonld), " ".join(" ".join(parser.parts).split())


@pytest.mark.parametrize("name", EXAMPLES)
def test_jsonld_matches_golden(name: str) -> None:
    payload = adapter_for("google").job_posting(item(name))  # type: ignore[attr-defined]
    assert payload == golden("google", name, payload)
    assert payload.keys() >= REQUIRED and payload.keys() >= RECOMMENDED
    assert payload["@type"] == "JobPosting"


def test_onsite_posting_has_one_place_per_location() -> None:
    payload = adapter_for("google").to_payload(example("warehouse-associate"))
    cities = [p["address"]["addressLocality"] for p in payload["jobLocation"]]
    assert cities == ["Denver", "Salt Lake City", "Phoenix"]
    assert all(p["address"]["addressCountry"] == "US" for p in payload["jobLocation"])
    assert "jobLocationType" not in payload


def test_remote_posting_is_telecommute_with_applicant_locations() -> None:
    payload = adapter_for("google").to_payload(example("remote-customer-support-specialist"))
    assert payload["jobLocationType"] == "TELECOMMUTE"
    assert "jobLocation" not in payload
    assert payload["applicantLocationRequirements"][0] == {
        "@type": "State",
        "name": "Colorado",
        "containedInPlace": {"@type": "Country", "name": "US"},
    }  # a state within its country


def test_description_has_only_the_tags_google_reads_and_every_field_a_place() -> None:
    from tests.factories import make_posting

    posting = make_posting(
        summary="See [our team](https://example.com/team) and <b>more</b>.",
        skills=["SQL", "Tableau"],
        openings=3,
        category="Analytics",
        department="Finance",
        boards={"google": {}},
    )
    payload = adapter_for("google").to_payload(posting)
    assert "<a" not in payload["description"] and "our team" in payload["description"]
    assert set(re.findall(r"</?([a-z0-9]+)", payload["description"])) <= {
        "p",
        "ul",
        "li",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "br",
        "strong",
        "em",
    }
    assert (payload["skills"], payload["totalJobOpenings"], payload["occupationalCategory"]) == (
        "SQL, Tableau",
        3,
        "Analytics",
    )
    assert payload["hiringOrganization"]["department"] == {
        "@type": "Organization",
        "name": "Finance",
    }


def test_salary_and_dates() -> None:
    payload = adapter_for("google").to_payload(example("ecommerce-operations-manager"))
    assert payload["baseSalary"] == {
        "@type": "MonetaryAmount",
        "currency": "USD",
        "value": {
            "@type": "QuantitativeValue",
            "unitText": "YEAR",
            "minValue": 85000.0,
            "maxValue": 120000.0,
        },
    }
    assert payload["datePosted"] == "2026-11-16T00:00:00-07:00"
    assert payload["validThrough"] == "2027-05-31T23:59:59-06:00"
    assert payload["employmentType"] == "FULL_TIME"


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_markup_value_is_visible_on_the_page(name: str) -> None:
    data, visible = parse_page(adapter_for("google").page(item(name)))
    posting = example(name)
    t = labels(posting.language)
    said = [say_date(datetime.fromisoformat(data[k]), t) for k in ("datePosted", "validThrough")]
    shown = [
        data["title"],
        data["hiringOrganization"]["name"],
        *said,
        data["identifier"]["value"],
    ]  # dates: the day, as the page's language says it
    shown += [p["address"]["addressLocality"] for p in data.get("jobLocation", [])]
    shown += [p["address"].get("postalCode", "") for p in data.get("jobLocation", [])]
    shown += [r["name"] for r in data.get("applicantLocationRequirements", [])]
    shown += [
        f"{v:,.0f}"
        for v in (posting.salary.min, posting.salary.max or 0)
        if posting.salary and v == int(v)
    ]
    for value in shown:
        assert value in visible, value
    assert t[posting.employment_type] in visible  # FULL_TIME in words
    assert "TELECOMMUTE" not in visible and "FULL_TIME" not in visible


def test_pages_sitemap_and_closed_pages() -> None:
    google = adapter_for("google")
    live = [item("ecommerce-operations-manager")]
    closed = [item("warehouse-associate")]
    files = google.render_files(live, closed, BUILT)
    assert sorted(files) == [
        "assets/filter.js",
        "assets/site.css",
        "index.html",
        "jobs.atom",
        "jobs/ecommerce-operations-manager.html",
        "jobs/warehouse-associate.html",
        "sitemap.xml",
    ]
    closed_page = files["jobs/warehouse-associate.html"].decode()
    assert '<meta name="robots" content="noindex">' in closed_page
    assert "application/ld+json" not in closed_page
    sitemap = files["sitemap.xml"].decode()
    assert re.findall(r"<loc>(.*?)</loc>", sitemap) == [
        "https://careers.northwind.example/jobs/ecommerce-operations-manager.html"
    ]
    assert google.render_files(live, closed, BUILT) == files  # pure and stable


def test_markdown_is_sanitized() -> None:
    evil = make_posting(
        summary="Hi <script>alert(1)</script> [click](javascript:alert(2)) "
        "</script><img src=x onerror=alert(3)>",
        title="Analyst </script><script>alert(4)</script>",
    )
    page = adapter_for("google").page(FeedItem.of(evil, timedelta(days=30))).decode()
    assert page.count("<script") == 1  # only the JSON-LD block, where "<" is \u003c
    assert 'href="javascript' not in page and "<img" not in page  # left as inert text
    assert "[click](javascript:alert(2))" in page
    data, _ = parse_page(page.encode())
    assert data["title"] == "Analyst </script><script>alert(4)</script>"


def test_site_url_is_a_board_rule() -> None:
    from publisher.board_rules import check_board

    problems = list(
        check_board(example("warehouse-associate"), adapter_for("google", site_url=None))
    )
    assert [(p.rule, p.board) for p in problems] == [("board-rule", "google")]


def _service_account(tmp_path: Path) -> Path:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    path = tmp_path / "sa.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "client_email": "bot@p.iam.example",
                "private_key": pem,
                "private_key_id": "k1",
            }
        )
    )
    return path


async def test_indexing_api_pings_within_budget(
    tmp_path: Path, http: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_SA", str(_service_account(tmp_path)))
    token = http.post("https://oauth2.googleapis.com/token").mock(
        return_value=httpx.Response(200, json={"access_token": "ya29.test", "expires_in": 3600})
    )
    publish = http.post("https://indexing.googleapis.com/v3/urlNotifications:publish").mock(
        return_value=httpx.Response(200, json={"urlNotificationMetadata": {}})
    )
    async with httpx.AsyncClient() as client:
        google = adapter_for("google", client, indexing=True, service_account_env="GOOGLE_SA")
        used = await google.announce(
            [example("ecommerce-operations-manager"), example("warehouse-associate")],
            [example("remote-customer-support-specialist")],
            budget=2,
        )
    assert used == 2
    assert token.call_count == 1
    form = token.calls.last.request.content.decode()
    assert "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer" in form
    assert publish.call_count == 2
    first = publish.calls[0].request
    assert first.headers["Authorization"] == "Bearer ya29.test"
    assert first.headers["Content-Type"] == "application/json"
    assert json.loads(first.content) == {
        "url": "https://careers.northwind.example/jobs/ecommerce-operations-manager.html",
        "type": "URL_UPDATED",
    }


async def test_indexing_without_key_is_an_auth_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOOGLE_SA", raising=False)
    google = adapter_for("google", indexing=True, service_account_env="GOOGLE_SA")
    assert google.missing_credentials() == ["GOOGLE_SA"]
    with pytest.raises(BoardAuthError, match="GOOGLE_SA is not set"):
        await google.announce([example("warehouse-associate")], [], budget=5)


def test_description_is_rendered_once_per_posting() -> None:
    from publisher.render import _RENDERED, description_html

    posting = example("warehouse-associate")
    first = description_html(posting)
    assert description_html(posting) is first and _RENDERED[id(posting)] is first
    copy = posting.model_copy(update={"title": "Other"})  # another object: its own entry
    assert description_html(copy) == first and id(copy) in _RENDERED
    key = id(copy)
    del copy
    import gc

    gc.collect()
    assert key not in _RENDERED  # forgotten with the posting
