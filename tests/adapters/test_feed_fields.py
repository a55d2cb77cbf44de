"""Feed details as the boards document them: Careerjet's one location element, Indeed's
contact e-mail, literal text and remote fields, every canonical field given a place."""

from __future__ import annotations

from datetime import UTC, datetime

from publisher.adapter import FeedItem, FileAdapter
from publisher.board_rules import check_board
from tests.adapters.helpers import adapter_for, parse_feed
from tests.factories import make_posting

WHEN = datetime(2026, 12, 1, 15, tzinfo=UTC)


def _job(board: str, **changes: object) -> tuple[bytes, object]:
    adapter = adapter_for(board)
    assert isinstance(adapter, FileAdapter)
    posting = make_posting(**changes)
    (content,) = adapter.render_files([FeedItem(posting, WHEN, None)], [], WHEN).values()
    return content, parse_feed(content).find(".//job")


def test_careerjet_writes_one_location_element_per_job() -> None:
    _, job = _job("careerjet_feed")
    locations = job.findall("location")  # type: ignore[attr-defined]
    assert len(locations) == 1
    assert [(c.tag, c.text) for c in locations[0]] == [
        ("city", "Boulder"),
        ("region", "CO"),
        ("country", "US"),
    ]


def test_indeed_text_is_literal_and_every_field_has_a_place() -> None:
    content, job = _job(
        "indeed_feed",
        summary="R&D <team> builds dashboards & reports for every team in the company.",
        department="Finance",
        experience={"min_years": 2, "max_years": 5},
    )
    assert b"&amp;" not in content  # literal characters ...
    # ... but text that would read as markup keeps its entities: <team> is text, not a tag
    assert "R&D &lt;team&gt; builds" in (job.findtext("description") or "")  # type: ignore[attr-defined]
    assert job.findtext("category") == "Finance"  # type: ignore[attr-defined]
    assert job.findtext("experience") == "2-5 years"  # type: ignore[attr-defined]


def test_indeed_without_a_contact_email_is_a_warning() -> None:
    posting = make_posting(boards={"indeed_feed": {}})
    problems = [
        p for p in check_board(posting, adapter_for("indeed_feed")) if "contact e-mail" in p.message
    ]
    assert [(p.rule, p.severity, p.board) for p in problems] == [
        ("board-rule", "warning", "indeed_feed")
    ]
    with_company = make_posting(company={"name": "Example Corp", "email": "jobs@example.com"})
    assert not [
        p
        for p in check_board(with_company, adapter_for("indeed_feed"))
        if "contact e-mail" in p.message
    ]


def test_each_board_tags_the_apply_url_with_its_own_tracking(tmp_path: object) -> None:
    from pathlib import Path

    from publisher.config import load_config

    config = Path(str(tmp_path)) / "jobpub.toml"
    config.write_text(
        '[boards.indeed_feed]\njob_url = "https://jobs.example.com/{id}?lang=en"\n'
        '[boards.indeed_feed.tracking]\nutm_source = "indeed"\n'
        'utm_medium = "job_board"\n'
        '[boards.google]\nsite_url = "https://jobs.example.com/{id}.html"\n'
        '[boards.google.tracking]\nutm_source = "google_jobs"\n'
    )
    loaded = load_config(config)
    from publisher.registry import Adapters

    built = Adapters(loaded)
    indeed = built.get("indeed_feed")
    assert isinstance(indeed, FileAdapter)
    posting = make_posting()
    (content,) = indeed.render_files([FeedItem(posting, WHEN, None)], [], WHEN).values()
    job = parse_feed(content).find(".//job")
    assert job is not None
    assert job.findtext("url") == (
        "https://jobs.example.com/data-analyst?lang=en&utm_source=indeed&utm_medium=job_board"
    )
    google = built.get("google")
    page = google.preview(posting)
    assert 'href="https://jobs.example.com/data-analyst?utm_source=google_jobs">Apply now' in page
    assert '"url": "https://jobs.example.com/data-analyst.html"' in page  # canonical: as is
