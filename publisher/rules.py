"""Posting rules: small functions that each return the problems of one rule id.

Two kinds exist. Text rules (``placeholder``) read the raw YAML data, so they also run on a
file that fails the schema. Posting rules read a valid :class:`~publisher.schema.Posting`.

Compliance rules (``pay-transparency``, ``benefits-required``, ``inclusive-language``) are
added to :data:`POSTING_RULES` by the compliance module; board rules are checked by
:mod:`publisher.board_rules` against each adapter's declared limits.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from publisher.compliance import check_benefits, check_disclosures, check_pay
from publisher.problems import Path, Problem, format_path
from publisher.schema import XML_FORBIDDEN, Posting
from publisher.wording import check_wording

if TYPE_CHECKING:
    from publisher.config import Config

__all__ = [
    "POSTING_RULES",
    "TEXT_RULES",
    "RuleContext",
    "check_characters",
    "check_dates",
    "check_eeo_statement",
    "check_placeholders",
    "check_remote_eligibility",
    "check_salary",
    "check_timezone",
    "iter_strings",
]


@dataclass(frozen=True)
class RuleContext:
    """What rules may know beyond the posting: config defaults and the current time."""

    now: datetime
    timezone: str = "UTC"
    eeo_statement: str | None = None
    expired_is_error: bool = True  # validate: yes; sync: an ended posting is simply expired
    employees: int | None = None  # the employer's size (None: unknown, so covered)
    employees_in: Mapping[str, int] = field(default_factory=dict)
    federal_contractor: bool = False

    @classmethod
    def of(
        cls, config: Config, now: datetime | None = None, *, expired_is_error: bool = True
    ) -> RuleContext:
        """The context the config gives, at ``now`` (default: this moment)."""
        from publisher import clock

        employer = config.employer
        return cls(
            now or clock.now(),
            config.timezone,
            config.eeo_statement,
            expired_is_error,
            employer.employees,
            dict(employer.employees_in),
            employer.federal_contractor,
        )


PLACEHOLDER = re.compile(
    r"""
      \[(?!\s*[xX]?\s*\])[^\[\]\n]*[A-Za-z][^\[\]\n]*\](?![(\[:])  # [City, State], not [a](url)
    | \b(?:TBD|TBA|TBC)\b
    | \bX{3,}\b
    | (?i:\blorem\s+ipsum\b)
    | (?i:<\s*insert\b[^>]*>)
    | \{\{[^{}\n]*\}\}                                             # {{mustache}}
    | _{4,}                                                        # ____ blanks
    """,
    re.VERBOSE,
)


def iter_strings(value: Any) -> Iterator[tuple[Path, str]]:
    """Every string value (not key) in nested YAML data, with its path, in document order."""
    stack: list[tuple[Path, Any]] = [((), value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            yield path, item
        elif isinstance(item, dict):
            stack.extend(
                ((*path, k if isinstance(k, str) else str(k)), v) for k, v in reversed(item.items())
            )
        elif isinstance(item, list):
            stack.extend(((*path, i), v) for i, v in reversed(list(enumerate(item))))


def _may_hold_placeholder(text: str) -> bool:
    """Whether ``text`` has what every placeholder contains (files without any, most, skip
    the full pattern). Also asked of the file's text, a superset of its strings' text when
    nothing is escaped (folding joins lines with a space or keeps them)."""
    return (
        "\\" in text
        or "[" in text
        or "<" in text
        or "{{" in text
        or "____" in text
        or "TB" in text
        or "XXX" in text
        or "lorem" in text.lower()
    )


def check_placeholders(data: Any, source: str | None = None) -> Iterator[Problem]:
    """``placeholder``: unfilled template text anywhere in the file (``source``: its text,
    when known, a cheaper first look)."""
    if source is not None and not _may_hold_placeholder(source):
        return
    strings = list(iter_strings(data))
    if not _may_hold_placeholder("\n".join(text for _, text in strings)):
        return
    for path, text in strings:
        if not _may_hold_placeholder(text):
            continue  # the full pattern is tried at every character: only where it may match
        for match in PLACEHOLDER.finditer(text):
            found = match.group(0)
            yield Problem(
                "placeholder",
                f"unfilled template text {found!r} in {format_path(path)}",
                path,
                needle=found,
            )


def check_dates(posting: Posting, ctx: RuleContext) -> Iterator[Problem]:
    """``dates``: expiry after publication, and no open posting already past its expiry."""
    start = posting.publish_time(ctx.timezone)
    end = posting.expiry_time(ctx.timezone)
    if end is None:
        return
    if start is not None and end <= start:
        yield Problem(
            "dates",
            f"expires_at ({end.isoformat()}) is not after publish_at ({start.isoformat()})",
            ("expires_at",),
        )
    elif posting.status == "open" and end <= ctx.now and ctx.expired_is_error:
        yield Problem(
            "dates",
            f"the posting expired at {end.isoformat()} but its status is "
            "open: set status: closed or move expires_at",
            ("expires_at",),
        )


def check_timezone(posting: Posting, ctx: RuleContext) -> Iterator[Problem]:
    """``timezone`` (warning): no work location keeps the time of the zone the posting's
    dates are read in (Columbus, OH under America/Denver): they would be hours off."""
    from publisher.timezones import matches, zones_of

    zone = posting.timezone or ctx.timezone
    if not posting.locations:
        return
    when = posting.publish_time(ctx.timezone) or ctx.now
    if any(matches(zone, loc.country, loc.region, when) for loc in posting.locations):
        return
    first = posting.locations[0]
    place = f"{first.city}, {first.region or first.country}"
    where = (
        "the config's timezone"
        if posting.timezone in (None, ctx.timezone)
        else "the posting's timezone"
    )
    suggestion = zones_of(first.country, first.region)[0]
    yield Problem(
        "timezone",
        f"{place} is not in {zone} ({where}); its dates would be read "
        f"there: set timezone: {suggestion}",
        ("locations", 0, "city"),
        severity="warning",
    )


# Implausible amounts for a period, in any currency: warnings, not errors.
SALARY_FLOOR = {"year": 100.0, "month": 10.0}
SALARY_CEILING = {"hour": 10_000.0}


def check_salary(posting: Posting, ctx: RuleContext) -> Iterator[Problem]:
    """``salary``: positive amounts, min <= max, plausible for the period."""
    salary = posting.salary
    if salary is None:
        return
    amounts: list[tuple[str, float | None]] = [("min", salary.min), ("max", salary.max)]
    bad = [(name, amount) for name, amount in amounts if amount is not None and amount <= 0]
    for name, amount in bad:
        yield Problem(
            "salary", f"salary.{name} must be greater than zero (got {amount:g})", ("salary", name)
        )
    if bad:
        return
    if salary.max is not None and salary.min > salary.max:
        yield Problem(
            "salary",
            f"salary.min ({salary.min:g}) is greater than salary.max ({salary.max:g})",
            ("salary", "max"),
        )
    floor = SALARY_FLOOR.get(salary.period)
    ceiling = SALARY_CEILING.get(salary.period)
    for name, value in amounts:
        if value is None:
            continue
        if floor is not None and value < floor:
            yield Problem(
                "salary",
                f"salary.{name} {value:g} per {salary.period} looks too low: is the period right?",
                ("salary", name),
                "warning",
            )
        if ceiling is not None and value > ceiling:
            yield Problem(
                "salary",
                f"salary.{name} {value:g} per {salary.period} looks too high: is the period right?",
                ("salary", name),
                "warning",
            )


def check_remote_eligibility(posting: Posting, ctx: RuleContext) -> Iterator[Problem]:
    """``remote-eligibility``: a fully remote job says where applicants may live."""
    if posting.workplace == "remote" and not posting.remote_eligibility:
        yield Problem(
            "remote-eligibility",
            "workplace is remote but remote_eligibility is missing: list the "
            "countries (US) or regions (US-CO) where applicants may live",
            ("workplace",),
        )


def check_locations(posting: Posting, ctx: RuleContext) -> Iterator[Problem]:
    """``schema``: onsite and hybrid jobs need at least one location."""
    if posting.workplace != "remote" and not posting.locations:
        yield Problem(
            "schema", f"locations is required when workplace is {posting.workplace}", ("workplace",)
        )


def check_company(posting: Posting, ctx: RuleContext) -> Iterator[Problem]:
    """``schema``: the hiring organization comes from the posting or the config."""
    if posting.company is None:
        yield Problem(
            "schema", "company is missing and config/jobpub.toml has no [company]", ("id",)
        )


VEVRAA = re.compile(r"(?i)veteran")
SECTION_503 = re.compile(r"(?i)disabilit")


def check_eeo_statement(posting: Posting, ctx: RuleContext) -> Iterator[Problem]:
    """``eeo-statement`` (warning): an equal-opportunity statement is expected; a federal
    contractor's must say that protected veterans and people with disabilities are considered
    (VEVRAA, 41 CFR 60-300.5; Section 503, 41 CFR 60-741.5)."""
    statement = posting.eeo_statement or ctx.eeo_statement
    if not statement:
        yield Problem(
            "eeo-statement",
            "no EEO statement: add eeo_statement to the posting or to config/jobpub.toml",
            ("id",),
            "warning",
        )
    elif ctx.federal_contractor and not (
        VEVRAA.search(statement) and SECTION_503.search(statement)
    ):
        yield Problem(
            "eeo-statement",
            "a federal contractor's ads must say that qualified "
            "applicants are considered without regard to protected veteran status "
            "or disability (VEVRAA and Section 503): add it to the EEO statement",
            ("eeo_statement",) if posting.eeo_statement else ("id",),
            "warning",
        )


PostingRule = Callable[[Posting, RuleContext], Iterable[Problem]]
TextRule = Callable[[Any, str | None], Iterable[Problem]]


def check_characters(data: Any, source: str | None = None) -> Iterator[Problem]:
    """``schema``: a character XML forbids (U+FFFE, U+FFFF, a surrogate, a C0 control other
    than tab, LF, CR) in any text: it would make every feed and page invalid. The YAML
    parsers refuse such characters written raw, so only an escape (a backslash in the file)
    can bring one in."""
    if source is not None and "\\" not in source:
        return
    for path, text in iter_strings(data):
        found = XML_FORBIDDEN.search(text)
        if found is not None:
            yield Problem(
                "schema",
                f"{format_path(path)} holds U+{ord(found.group()):04X}, "
                "a character XML forbids (it would make feeds and pages invalid): "
                "remove it",
                path,
            )


TEXT_RULES: list[TextRule] = [check_placeholders, check_characters]
POSTING_RULES: list[PostingRule] = [
    check_company,
    check_locations,
    check_dates,
    check_salary,
    check_remote_eligibility,
    check_eeo_statement,
    check_timezone,
    check_pay,
    check_benefits,
    check_disclosures,
    check_wording,
]


def configured(problems: Iterable[Problem], settings: Mapping[str, str]) -> list[Problem]:
    """``problems`` as the config's ``[rules]`` table wants them: a rule turned off is
    dropped, another's severity replaced."""
    out = []
    for problem in problems:
        setting = settings.get(problem.rule)
        if setting == "off":
            continue
        if setting in ("warning", "error") and setting != problem.severity:
            from dataclasses import replace

            problem = replace(problem, severity=setting)  # type: ignore[arg-type]
        out.append(problem)
    return out
