"""The careers site's files: words in the posting's language and time zone, experience as a
range, the closed page, the Atom feed, determinism and escaping (the browser view:
tests/test_careers_browser.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from xml.etree import ElementTree

from adapters.careers import experience, labels
from publisher.adapter import FeedItem
from tests.adapters.helpers import adapter_for
from tests.factories import make_posting

BUILT = datetime(2026, 11, 26, 12, tzinfo=UTC)


def _item(**changes: object) -> FeedItem:
    return FeedItem(
        make_posting(**changes),
        datetime(2026, 12, 1, 7, 30, tzinfo=UTC),
        datetime(2027, 2, 1, 6, 59, tzinfo=UTC),
    )


def test_a_german_posting_reads_in_german_in_its_time_zone() -> None:
    page = (
        adapter_for("google")
        .page(_item(language="de", timezone="Europe/Berlin", employment_type="part_time"))
        .decode()
    )
    assert '<html lang="de">' in page and "Jetzt bewerben" in page
    assert "<dt>Anstellungsart</dt><dd>Teilzeit</dd>" in page
    assert "<dt>Veröffentlicht</dt><dd>1. Dezember 2026</dd>" in page
    assert "<dt>Bewerbungsschluss</dt><dd>1. Februar 2027</dd>" in page  # 07:59 in Berlin


def test_experience_is_a_range_or_a_minimum() -> None:
    t = labels("en")
    assert (
        experience(make_posting(experience={"min_years": 3, "max_years": 5}), t) == "3\u20135 years"
    )  # an en dash
    assert experience(make_posting(experience={"min_years": 2}), t) == "2+ years"
    assert labels("pt")["apply"] == "Apply now"  # a language without labels: English


def test_closed_pages_index_and_atom_feed() -> None:
    google = adapter_for("google")
    live, gone = _item(), _item(id="old-job", title="Old Job")
    files = google.render_files([live], [gone], BUILT)
    closed = files["jobs/old-job.html"].decode()
    assert '<meta name="robots" content="noindex">' in closed
    assert "no longer accepting applications" in closed and 'href="../index.html"' in closed
    index = files["index.html"].decode()
    assert 'href="jobs/data-analyst.html"' in index and "Old Job" not in index
    feed = ElementTree.fromstring(files["jobs.atom"])
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert [e.findtext("a:title", namespaces=ns) for e in feed.findall("a:entry", ns)] == [
        "Data Analyst"
    ]
    assert feed.findtext("a:updated", namespaces=ns) == BUILT.isoformat()
    assert google.render_files([live], [gone], BUILT) == files  # deterministic


def test_text_is_escaped_everywhere() -> None:
    evil = _item(title="Analyst <script>alert(1)</script>", department='R&D "x"')
    files = adapter_for("google").render_files([evil], [], BUILT)
    for name in ("index.html", "jobs/data-analyst.html", "jobs.atom"):
        body = files[name].decode()
        assert "<script>alert" not in body, name
    assert "R&amp;D" in files["index.html"].decode()


def test_the_atom_feed_has_an_author() -> None:
    """RFC 4287 §4.1.1: a feed whose entries name no author names one itself."""
    files = adapter_for("google").render_files([_item()], [], BUILT)
    feed = ElementTree.fromstring(files["jobs.atom"])
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert (feed.findtext("a:author/a:name", namespaces=ns) or "").strip()


def test_no_template_leftovers_in_any_page_or_feed() -> None:
    """A remote posting once showed 'Remote ({where})' in the Workplace filter."""
    remote = _item(
        id="remote-analyst",
        workplace="remote",
        locations=[],
        remote_eligibility=["US", "CA"],
    )
    files = adapter_for("google").render_files([_item(), remote], [], BUILT)
    for name, body in files.items():
        if name.endswith(".js"):  # (the filter script fills its count template itself)
            continue
        text = body.decode("utf-8", "replace")
        assert not re.search(r"\{[a-z_]+\}", text), (name, re.findall(r".{40}\{[a-z_]+\}", text))
    index = files["index.html"].decode()
    assert "<option>Remote</option>" in index
