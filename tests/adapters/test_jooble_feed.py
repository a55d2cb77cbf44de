"""Jooble XML feed."""

from __future__ import annotations

from datetime import timedelta

from adapters.jooble_feed import JoobleFeedAdapter
from tests.adapters.feed_cases import check_golden, render


def test_golden_payloads() -> None:
    check_golden("jooble_feed")


def test_feed_document() -> None:
    name, root = render("jooble_feed")
    assert name == "feeds/jooble.xml"
    assert root.tag == "jobs"
    job = root.findall("job")[0]
    assert job.get("id") == "ecommerce-operations-manager"
    assert job.findtext("name") == "E-commerce Operations Manager"
    assert job.findtext("pubdate") == "01.12.2026"
    assert job.findtext("expire") == "31.05.2027"
    assert job.findtext("region") == "Denver, CO, US"


def test_refreshed_inside_the_45_day_window() -> None:
    every = JoobleFeedAdapter.refresh_policy.every
    assert every is not None and every < timedelta(days=45)
