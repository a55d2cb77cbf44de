"""Indeed XML feed."""

from __future__ import annotations

from tests.adapters.feed_cases import check_golden, render


def test_golden_payloads() -> None:
    check_golden("indeed_feed")


def test_feed_document() -> None:
    name, root = render("indeed_feed")
    assert name == "feeds/indeed.xml"
    assert root.tag == "source"
    assert root.findtext("publisher") == "Northwind Outfitters"
    assert root.findtext("lastBuildDate") == "Wed, 02 Dec 2026 08:30:00 GMT"
    jobs = root.findall("job")
    refs = [j.findtext("referencenumber") for j in jobs]
    assert refs == [
        "ecommerce-operations-manager",
        "remote-customer-support-specialist",
        "warehouse-associate--denver-co",
        "warehouse-associate--salt-lake-city-ut",
        "warehouse-associate--phoenix-az",
    ]  # one job per location, stable refs
    first = jobs[0]
    assert first.findtext("title") == "E-commerce Operations Manager"
    assert first.findtext("date") == "2026-12-01T08:00:00-07:00"  # the posting's time zone
    assert first.findtext("salary") == "$85,000 - $120,000 per year"  # as Indeed shows pay
    assert first.findtext("expirationdate") == "2027-05-31T23:59:59-06:00"
    assert first.findtext("email") == "jobs@northwind.example"  # its apply e-mail
    assert first.findtext("jobtype") == "full-time"
    assert first.findtext("requisitionid") == "REQ-2026-0142"
    assert first.findtext("url") == (
        "https://careers.northwind.example/jobs/ecommerce-operations-manager.html"
    )
    assert "<h2>Responsibilities</h2>" in (first.findtext("description") or "")
    remote = jobs[1]
    assert [
        (remote.findtext(tag), remote.find(tag) is not None)
        for tag in ("city", "state", "postalcode")
    ] == [("", True)] * 3  # present and empty
    assert (remote.findtext("country"), remote.findtext("remotetype")) == ("US", "Fully remote")
    assert remote.findtext("email") == "careers@northwind.example"  # else [company] email
