"""Compliance rules from data: which laws cover a posting (work locations, remote reach,
employer size, dates), what each asks for, the messages (jurisdiction, law, date, field), and
how a person silences or re-rates a rule."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from publisher.cli import cli
from publisher.compliance import jurisdictions
from publisher.config import Config, apply_defaults
from publisher.problems import Problem
from publisher.rules import POSTING_RULES, RuleContext
from publisher.schema import Posting
from tests.factories import line_of, posting_data

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
DENVER = {"city": "Denver", "region": "CO", "country": "US", "postal_code": "80202"}
TORONTO = {"city": "Toronto", "region": "ON", "country": "CA"}
NYC = {"city": "Brooklyn", "region": "NY", "country": "US"}
BERLIN = {"city": "Berlin", "country": "DE"}


def posting(**changes: Any) -> Posting:
    data = posting_data(publish_at=date(2026, 12, 1), expires_at=date(2027, 1, 31))
    data.update(changes)
    data = {k: v for k, v in data.items() if v is not None}
    return apply_defaults(Posting.model_validate(data), Config())


def problems(item: Posting, **ctx: Any) -> list[Problem]:
    context = RuleContext(NOW, "America/Denver", **ctx)
    return [
        p
        for rule in POSTING_RULES
        for p in rule(item, context)
        if p.rule in ("pay-transparency", "benefits-required", "disclosure-required")
    ]


def test_every_row_of_the_data_file_is_complete() -> None:
    rows = jurisdictions()
    codes = {row.code for row in rows}
    assert {
        "US-CO",
        "US-CA",
        "US-WA",
        "US-NY-NYC",
        "US-NY",
        "US-NY-ITH",
        "US-NY-WES",
        "US-NJ-JC",
        "US-NJ",
        "US-HI",
        "US-DC",
        "US-MD",
        "US-IL",
        "US-MN",
        "US-VT",
        "US-MA",
        "US-OH-CLE",
        "US-OH-CMH",
        "US-DE",
        "EU",
        "CA-BC",
        "CA-PE",
        "CA-ON",
        "GB",
    } <= codes
    for row in rows:
        assert row.sources and row.law and row.name, row.code
        assert row.advisory or (row.effective is not None and row.requires), row.code
    columbus = next(r for r in rows if r.code == "US-OH-CMH")
    assert (columbus.effective, columbus.enforced) == (date(2025, 12, 3), date(2027, 1, 1))


def test_a_denver_job_needs_pay_benefits_and_a_close_date() -> None:
    found = problems(posting(locations=[DENVER], salary=None, benefits=[], expires_at=None))
    assert [(p.rule, p.severity, p.path) for p in found] == [
        ("pay-transparency", "error", ("locations", 0, "region")),
        ("benefits-required", "error", ("locations", 0, "region")),
        ("disclosure-required", "error", ("locations", 0, "region")),
    ]
    assert found[0].message.startswith(
        "Colorado (Equal Pay for Equal Work Act, C.R.S. "
        "8-5-101; 7 CCR 1103-13) since 2021-01-01 requires the pay"
    )
    assert problems(posting(locations=[DENVER])) == []


def test_a_remote_job_open_to_the_us_is_covered_by_every_state_law_reaching_remote() -> None:
    remote = posting(workplace="remote", locations=[], remote_eligibility=["US"], salary=None)
    states = {p.message.split(" (")[0] for p in problems(remote) if p.rule == "pay-transparency"}
    assert {
        "Colorado",
        "California",
        "Washington",
        "New York State",
        "Illinois",
        "Maryland",
    } <= states
    assert "New York City" not in states  # a city law needs a work location in the city
    only_co = posting(workplace="remote", locations=[], remote_eligibility=["US-CO"], salary=None)
    assert {p.message.split(" (")[0] for p in problems(only_co)} == {"Colorado"}


def test_employer_size_decides_who_is_covered() -> None:
    nyc = posting(locations=[NYC], salary={"min": 90000, "currency": "USD", "period": "year"})
    assert any("New York City" in p.message for p in problems(nyc))  # unknown size: covered
    assert [p for p in problems(nyc, employees=3)] == []  # under NYC's and NYS's 4
    minnesota = posting(
        locations=[{"city": "Duluth", "region": "MN", "country": "US"}], benefits=[]
    )
    assert problems(minnesota, employees=500, employees_in={"US-MN": 10}) == []
    assert problems(minnesota, employees=500)  # 500 staff, none counted in MN: covered


def test_both_ends_unless_a_single_figure_is_allowed() -> None:
    fixed = {"min": 90000, "currency": "USD", "period": "year"}
    found = problems(posting(locations=[NYC], salary=fixed))
    assert [(p.rule, p.path) for p in found] == [("pay-transparency", ("salary",))]
    assert "New York City" in found[0].message and "add salary.max" in found[0].message
    washington = {"city": "Seattle", "region": "WA", "country": "US"}
    assert problems(posting(locations=[washington], salary=fixed)) == []


def test_ontario_width_exemption_and_disclosures() -> None:
    wide = {"min": 60000, "max": 120000, "currency": "CAD", "period": "year"}
    found = problems(
        posting(
            locations=[TORONTO],
            salary=wide,
            publish_at=date(2026, 12, 1),
            timezone="America/Toronto",
        )
    )
    assert [(p.rule, p.path) for p in found] == [
        ("pay-transparency", ("salary", "max")),
        ("disclosure-required", ("locations", 0, "region")),
        ("disclosure-required", ("locations", 0, "region")),
    ]
    assert "at most 50,000 a year wide; this one is 60,000" in found[0].message
    high = {"min": 150000, "max": 250000, "currency": "CAD", "period": "year"}
    said = {"ai_screening": False, "existing_vacancy": True}
    assert (
        problems(
            posting(locations=[TORONTO], salary=high, disclosures=said, timezone="America/Toronto")
        )
        == []
    )  # over 200,000: exempt
    assert (
        problems(posting(locations=[TORONTO], salary=wide, disclosures=said), employees=24) == []
    )  # under 25 employees


def test_before_a_law_applies_it_warns_and_after_its_window_it_is_silent() -> None:
    delaware = {"city": "Wilmington", "region": "DE", "country": "US"}
    before = problems(posting(locations=[delaware], benefits=[], expires_at=date(2027, 12, 31)))
    assert {(p.rule, p.severity) for p in before} == {("benefits-required", "warning")}
    assert "since 2027-09-26" in before[0].message
    assert problems(posting(locations=[delaware], benefits=[])) == []  # ends before the law
    columbus = {"city": "Columbus", "region": "OH", "country": "US"}
    early = problems(posting(locations=[columbus], salary=None, expires_at=date(2027, 3, 1)))
    assert [(p.rule, p.severity) for p in early] == [("pay-transparency", "warning")]


def test_the_eu_directive_warns_and_names_the_member_states_law() -> None:
    found = problems(posting(locations=[BERLIN], salary=None, timezone="Europe/Berlin"))
    assert [(p.rule, p.severity) for p in found] == [("pay-transparency", "warning")]
    assert "check the member state's transposing law" in found[0].message


def test_advisory_rows_are_never_a_problem() -> None:
    hartford = {"city": "Hartford", "region": "CT", "country": "US"}
    london = {"city": "London", "country": "GB"}
    assert problems(posting(locations=[hartford], salary=None, benefits=[])) == []
    assert problems(posting(locations=[london], salary=None, timezone="Europe/London")) == []


def test_federal_contractors_need_the_vevraa_and_section_503_sentence() -> None:
    context = RuleContext(NOW, "America/Denver", federal_contractor=True)
    plain = [
        p for rule in POSTING_RULES for p in rule(posting(), context) if p.rule == "eeo-statement"
    ]
    assert len(plain) == 1 and "protected veteran status or disability" in plain[0].message
    said = posting(
        eeo_statement="We are an equal opportunity employer: protected veterans "
        "and individuals with disabilities are encouraged to apply."
    )
    assert not [
        p for rule in POSTING_RULES for p in rule(said, context) if p.rule == "eeo-statement"
    ]


def _validate(tmp_path: Path, data: dict[str, Any], config: str = "") -> dict[str, Any]:
    path = tmp_path / "data-analyst.yaml"
    text = yaml.safe_dump(data, sort_keys=False)
    path.write_text(text)
    config_path = tmp_path / "jobpub.toml"
    config_path.write_text('[company]\nname = "Example Corp"\n' + config)
    found = CliRunner().invoke(
        cli, ["--config", str(config_path), "validate", "--format", "json", str(path)]
    )
    return {"exit": found.exit_code, "problems": json.loads(found.stdout)["problems"], "text": text}


@pytest.mark.usefixtures("fake_today")
def test_validate_points_at_the_line_and_config_can_rerate_or_silence(tmp_path: Path) -> None:
    data = posting_data(
        locations=[DENVER], benefits=[], publish_at=date(2026, 12, 1), expires_at=date(2027, 1, 31)
    )
    data.pop("benefits")
    found = _validate(tmp_path, data)
    (problem,) = [p for p in found["problems"] if p["rule"] == "benefits-required"]
    assert found["exit"] == 1 and problem["line"] == line_of(found["text"], "region: CO")
    softer = _validate(tmp_path, data, '[rules]\nbenefits-required = "warning"\n')
    assert softer["exit"] == 0 and [
        p["severity"] for p in softer["problems"] if p["rule"] == "benefits-required"
    ] == ["warning"]
    off = _validate(tmp_path, data, '[rules]\nbenefits-required = "off"\n')
    assert not [p for p in off["problems"] if p["rule"] == "benefits-required"]


def test_an_unknown_rule_in_the_config_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "jobpub.toml"
    config.write_text('[rules]\nbenefit-required = "off"\n')
    found = CliRunner().invoke(cli, ["--config", str(config), "rules"])
    assert found.exit_code == 2
    assert "unknown rule 'benefit-required' (did you mean 'benefits-required'?)" in found.output


def test_inclusive_language_with_positions_and_an_ignore_comment(tmp_path: Path) -> None:
    data = posting_data(
        publish_at=date(2026, 12, 1),
        expires_at=date(2027, 1, 31),
        title="Salesman",
        qualifications=["Recent graduates welcome", "A digital native"],
    )
    found = _validate(tmp_path, data)
    words = [
        (p["message"].split("'")[1], p["line"])
        for p in found["problems"]
        if p["rule"] == "inclusive-language"
    ]
    text = found["text"]
    assert words == [
        ("Salesman", line_of(text, "title: Salesman")),
        ("Recent graduates", line_of(text, "Recent graduates")),
        ("digital native", line_of(text, "digital native")),
    ]
    path = tmp_path / "data-analyst.yaml"
    path.write_text(
        text.replace("title: Salesman", "title: Salesman  # jobpub: ignore[inclusive-language]")
    )
    again = CliRunner().invoke(cli, ["validate", "--format", "json", str(path)])
    kept = [
        p["message"]
        for p in json.loads(again.stdout)["problems"]
        if p["rule"] == "inclusive-language"
    ]
    assert len(kept) == 2 and not any("Salesman" in m for m in kept)


def test_strongly_masculine_wording_is_named_word_by_word(tmp_path: Path) -> None:
    data = posting_data(
        publish_at=date(2026, 12, 1),
        expires_at=date(2027, 1, 31),
        summary="A competitive, driven and decisive leader who dominates.",
        responsibilities=["Lead an aggressive roadmap"],
    )
    found = _validate(tmp_path, data)["problems"]
    coded = [p["message"].split("'")[1] for p in found if "masculine-coded" in p["message"]]
    assert coded == ["Analyst", "competitive", "driven", "decisive", "leader"]  # the first 5


def test_jobpub_rules_lists_every_rule_and_law() -> None:
    shown = CliRunner().invoke(cli, ["rules", "--json"])
    data = json.loads(shown.stdout)
    assert shown.exit_code == 0
    assert [r["rule"] for r in data["rules"]][:2] == ["yaml-syntax", "schema"]
    ontario = next(law for law in data["laws"] if law["code"] == "CA-ON")
    assert ontario["effective"] == "2026-01-01" and ontario["min_employees"] == 25
    assert ontario["requires"] == ["ai_disclosure", "range", "vacancy_disclosure"]
    text = CliRunner().invoke(cli, ["rules"]).stdout
    assert "US-OH-CMH  Columbus, OH" in text and "from 2025-12-03, enforced 2027-01-01" in text
    assert "GB         United Kingdom" in text and "advisory: nothing in the posting" in text


def test_disclosures_are_said_in_the_description() -> None:
    from publisher.render import description_markdown

    text = description_markdown(
        posting(disclosures={"ai_screening": True, "existing_vacancy": False})
    )
    assert "Artificial intelligence is used to screen, assess or select applicants" in text
    assert "This posting is for future openings, not an existing vacancy." in text
    assert "Artificial intelligence" not in description_markdown(posting())


def test_the_places_judged_are_kept_up_to_a_bound_and_judged_alike_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import publisher.compliance as compliance

    places = [posting(locations=[where]) for where in (DENVER, TORONTO, NYC, BERLIN, DENVER)]
    fresh = [problems(item) for item in places]
    monkeypatch.setattr(compliance, "_COVERING", {})
    monkeypatch.setattr(compliance, "_COVERING_MOST", 2)
    sizes = []
    for item, expected in zip(places, fresh, strict=True):
        assert problems(item) == expected
        sizes.append(len(compliance._COVERING))
    assert max(sizes) == 2 and sizes[-1] <= 2


@settings(max_examples=400, derandomize=True, deadline=None)
@given(
    st.text(
        st.sampled_from("aZ_-09 \n.,!'\"\u00e9\u2013K\u212a\u0130\u00df") | st.characters(),
        max_size=60,
    )
)
def test_the_fast_way_to_a_texts_words_finds_the_patterns_words(text: str) -> None:
    """Wording judges words found by a byte table on ASCII text, by WORD on any other."""
    from publisher.wording import WORD, _words

    assert _words(text) == WORD.findall(text.lower())
    assert _words(text.encode("ascii", "ignore").decode()) == WORD.findall(
        text.encode("ascii", "ignore").decode().lower()
    )
