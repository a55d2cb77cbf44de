"""Talent.com XML feed."""

from __future__ import annotations

from publisher.board_rules import check_board
from tests.adapters.feed_cases import check_golden, render
from tests.adapters.helpers import adapter_for
from tests.factories import make_posting


def test_golden_payloads() -> None:
    check_golden("talent_feed")


def test_feed_document() -> None:
    name, root = render("talent_feed")
    assert name == "feeds/talent.xml"
    assert root.findtext("lastbuilddate") == "2026-12-02T08:30:00Z"
    job = root.findall("job")[0]
    assert job.findtext("dateposted") == "2026-12-01T08:00:00-07:00"  # in Denver
    assert (job.findtext("url") or "").endswith("ecommerce-operations-manager.html?source=talent")
    assert job.findtext("expirationdate") == "2027-05-31T23:59:59-06:00"  # not 1 June


def test_description_minimum() -> None:
    short = make_posting(
        summary="Short.",
        responsibilities=["Do"],
        qualifications=["Be"],
        benefits=None,
        eeo_statement=None,
        apply={"url": "https://e.example/a"},
    )
    problems = list(check_board(short, adapter_for("talent_feed")))
    assert [(p.rule, p.board, p.path) for p in problems] == [
        ("board-rule", "talent_feed", ("summary",))
    ]
    assert "at least 50" in problems[0].message
