"""Adzuna XML feed."""

from __future__ import annotations

from tests.adapters.feed_cases import check_golden, render


def test_golden_payloads() -> None:
    check_golden("adzuna_feed")


def test_feed_document() -> None:
    name, root = render("adzuna_feed")
    assert name == "feeds/adzuna.xml"
    jobs = root.findall("job")
    assert [j.findtext("contract_time") for j in jobs][:2] == ["full_time", "full_time"]
    assert jobs[-1].findtext("contract_time") == "part_time"
    assert all(len(j.findtext("description") or "") >= 100 for j in jobs)
