"""Posting text with control characters and markup where plain text belongs: pages and
feeds carry neither (control characters are dropped from the posting itself)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from publisher.adapter import FeedItem, FileAdapter
from publisher.registry import boards
from tests.adapters.helpers import adapter_for, parse_feed
from tests.factories import make_posting

CONTROLS = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
WHEN = datetime(2026, 11, 26, tzinfo=UTC)


def _hostile() -> FeedItem:
    posting = make_posting(
        title="Data\x00 Analyst <script>alert(1)</script>",
        summary="We\x01 build\x1b dashboards.\x00\nEvery team uses them.",
        company={"name": "Example <b>Corp</b>"},
        boards={"google": {}, "indeed_feed": {}, "jooble_feed": {}},
    )
    return FeedItem(posting, WHEN, WHEN.replace(month=12))


def test_control_characters_are_dropped_from_the_posting() -> None:
    posting = _hostile().posting
    assert posting.title == "Data Analyst <script>alert(1)</script>"
    assert posting.summary == "We build dashboards.\nEvery team uses them."


@pytest.mark.parametrize("board", sorted(b for b, cls in boards().items() if cls.kind != "api"))
def test_no_control_characters_in_any_file(board: str) -> None:
    fields = boards()[board].settings_model.model_fields
    setting = "job_url" if "job_url" in fields else "site_url"
    adapter = adapter_for(board, **{setting: "https://jobs.example.com/{id}.html"})
    assert isinstance(adapter, FileAdapter)
    files = adapter.render_files([_hostile()], [], WHEN)
    assert files and all(CONTROLS.search(content) is None for content in files.values())


@pytest.mark.parametrize(
    ("board", "title", "company"),
    [("indeed_feed", "title", "company"), ("jooble_feed", "name", "company")],
)
def test_plain_text_feed_fields_carry_no_markup(board: str, title: str, company: str) -> None:
    adapter = adapter_for(board, job_url="https://jobs.example.com/{id}.html")
    assert isinstance(adapter, FileAdapter)
    (content,) = adapter.render_files([_hostile()], [], WHEN).values()
    job = parse_feed(content).find(".//job")
    assert job is not None
    assert job.findtext(title) == "Data Analyst"
    assert job.findtext(company) == "Example Corp"
    assert b"<script" not in content and b"alert(1)" not in content
