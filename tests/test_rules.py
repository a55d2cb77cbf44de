"""Each posting rule on its own."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from publisher.rules import (
    check_dates,
    check_eeo_statement,
    check_placeholders,
    check_remote_eligibility,
    check_salary,
)
from tests.factories import context, make_posting


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Work in [City, State].", "[City, State]"),
        (
            "Send it to [email address or application portal].",
            "[email address or application portal]",
        ),
        ("Salary: TBD", "TBD"),
        ("Call 555-XXXX", "XXXX"),
        ("Lorem Ipsum dolor sit amet", "Lorem Ipsum"),
        ("Please <insert company name> here", "<insert company name>"),
        ("Hello {{ name }}", "{{ name }}"),
        ("Start date: ______", "______"),
    ],
)
def test_placeholder_finds_template_blanks(text: str, found: str) -> None:
    problems = list(check_placeholders({"summary": text}))
    assert [p.needle for p in problems] == [found]
    assert problems[0].rule == "placeholder"
    assert problems[0].path == ("summary",)


@pytest.mark.parametrize(
    "text",
    [
        "See [our site](https://example.com).",
        "A [reference][1] link.",
        "Checkbox [x] done",
        "TBDX is a word",
        "Extra-large is XXL",
        "[1]: https://example.com",
    ],
)
def test_placeholder_ignores_links_and_words(text: str) -> None:
    assert list(check_placeholders({"summary": text})) == []


def test_placeholder_walks_nested_lists() -> None:
    problems = list(check_placeholders({"locations": [{"city": "Denver"}, {"city": "[City]"}]}))
    assert [p.path for p in problems] == [("locations", 1, "city")]


def test_dates_expiry_must_follow_publication() -> None:
    posting = make_posting(publish_at="2027-02-01", expires_at="2027-01-31")
    problems = list(check_dates(posting, context()))
    assert [(p.rule, p.path) for p in problems] == [("dates", ("expires_at",))]


def test_dates_open_posting_already_expired() -> None:
    posting = make_posting(publish_at=None, expires_at="2026-11-25")
    assert [p.rule for p in check_dates(posting, context())] == ["dates"]
    closed = make_posting(publish_at=None, expires_at="2026-11-25", status="closed")
    assert list(check_dates(closed, context())) == []


def test_date_only_expiry_ends_at_end_of_local_day() -> None:
    posting = make_posting(expires_at="2026-11-26", publish_at=None)
    # 23:59:59 in Denver on 26 Nov is 06:59:59 UTC on the 27th: still open at noon UTC.
    assert posting.expiry_time() == datetime(2026, 11, 27, 6, 59, 59, tzinfo=UTC)
    assert list(check_dates(posting, context())) == []


@pytest.mark.parametrize(
    ("salary", "expected"),
    [
        (
            {"min": 90000, "max": 70000, "currency": "USD", "period": "year"},
            [("error", ("salary", "max"))],
        ),
        ({"min": 0, "currency": "USD", "period": "year"}, [("error", ("salary", "min"))]),
        (
            {"min": -5, "max": -1, "currency": "USD", "period": "hour"},
            [("error", ("salary", "min")), ("error", ("salary", "max"))],
        ),
        (
            {"min": 85, "max": 95, "currency": "USD", "period": "year"},
            [("warning", ("salary", "min")), ("warning", ("salary", "max"))],
        ),
        (
            {"min": 20, "max": 12000, "currency": "USD", "period": "hour"},
            [("warning", ("salary", "max"))],
        ),
        ({"min": 20, "max": 25, "currency": "USD", "period": "hour"}, []),
    ],
)
def test_salary(salary: dict[str, object], expected: list[tuple[str, tuple[str, ...]]]) -> None:
    problems = list(check_salary(make_posting(salary=salary), context()))
    assert [(p.severity, p.path) for p in problems] == expected
    assert all(p.rule == "salary" for p in problems)


def test_remote_needs_eligibility() -> None:
    remote = make_posting(workplace="remote", locations=None)
    assert [p.rule for p in check_remote_eligibility(remote, context())] == ["remote-eligibility"]
    ok = make_posting(workplace="remote", locations=None, remote_eligibility=["US"])
    assert list(check_remote_eligibility(ok, context())) == []


def test_eeo_statement_warns_when_missing_everywhere() -> None:
    posting = make_posting(eeo_statement=None)
    problems = list(check_eeo_statement(posting, context()))
    assert [(p.rule, p.severity) for p in problems] == [("eeo-statement", "warning")]
    assert list(check_eeo_statement(posting, context(eeo_statement="We are EEO."))) == []


def test_a_location_in_another_time_zone_than_the_posting_is_a_warning() -> None:
    from publisher.rules import check_timezone

    columbus = [{"city": "Columbus", "region": "OH", "country": "US"}]
    inherited = make_posting(locations=columbus, timezone="America/Denver")
    problems = list(check_timezone(inherited, context(timezone="America/Denver")))
    assert [(p.rule, p.severity, p.path) for p in problems] == [
        ("timezone", "warning", ("locations", 0, "city"))
    ]
    assert problems[0].message == (
        "Columbus, OH is not in America/Denver (the config's timezone); its dates would be "
        "read there: set timezone: America/New_York"
    )
    right = make_posting(locations=columbus, timezone="America/New_York")
    assert list(check_timezone(right, context(timezone="America/Denver"))) == []
    # Several places: one of them in the zone is enough; a split state matches either zone.
    both = make_posting(
        locations=[*columbus, {"city": "Boulder", "region": "CO", "country": "US"}],
        timezone="America/Denver",
    )
    assert list(check_timezone(both, context())) == []
    el_paso = make_posting(
        locations=[{"city": "El Paso", "region": "TX", "country": "US"}], timezone="America/Denver"
    )
    assert list(check_timezone(el_paso, context())) == []
    berlin = make_posting(
        locations=[{"city": "Berlin", "country": "DE"}], timezone="America/Denver"
    )
    assert "set timezone: Europe/Berlin" in next(iter(check_timezone(berlin, context()))).message
