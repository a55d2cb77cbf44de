"""Careerjet XML feed."""

from __future__ import annotations

from tests.adapters.feed_cases import check_golden, render


def test_golden_payloads() -> None:
    check_golden("careerjet_feed")


def test_feed_document() -> None:
    name, root = render("careerjet_feed")
    assert name == "feeds/careerjet.xml"
    job = root.findall("job")[0]
    assert job.findtext("location/city") == "Denver"
    assert job.findtext("location/region") == "CO"
    assert (job.findtext("contract_type"), job.findtext("working_hours")) == (
        "permanent",
        "full-time",
    )
    assert job.findtext("application_email") == "jobs@northwind.example"
