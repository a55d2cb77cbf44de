"""Compliance rules from data: pay transparency by jurisdiction, benefits, disclosures.

The laws are rows of ``publisher/data/pay_transparency.toml`` (loaded once). A row covers a
posting when one of its work locations is in the jurisdiction (a state or province by its ISO
3166-2 code, a city by region and name), or, for a law that reaches remote work, when its
``remote_eligibility`` lists the jurisdiction or its whole country; and when the employer is
large enough (``[employer]`` in the config; unknown size is covered). A row applies when the
posting's window (publish time to end) reaches its effective date: a warning before that
date, an error from it (from ``enforced`` when enforcement comes later).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from publisher.problems import Path, Problem, Severity
from publisher.schema import Posting

if TYPE_CHECKING:
    from publisher.rules import RuleContext

__all__ = ["Jurisdiction", "check_benefits", "check_disclosures", "check_pay", "jurisdictions"]

EU = frozenset(
    {
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    }
)
YEAR = {"hour": 2080, "day": 260, "week": 52, "month": 12, "year": 1}
STAND_IN = re.compile(
    r"(?i)\b(DOE|depending on experience|competitive (salary|pay|wage)s?|"
    r"salary negotiable|negotiable|market rate)\b"
)


@dataclass(frozen=True)
class Jurisdiction:
    code: str
    name: str
    law: str
    effective: date | None = None
    enforced: date | None = None
    min_employees: int | None = None
    count: str = "all"
    remote: bool = False
    region: str | None = None
    cities: tuple[str, ...] = ()
    requires: frozenset[str] = frozenset()
    fixed_allowed: bool = False
    max_width: float | None = None
    exempt_above: float | None = None
    advisory: bool = False
    warn_only: bool = False
    note: str | None = None
    sources: tuple[str, ...] = field(default_factory=tuple)

    @property
    def country(self) -> str:
        return self.code.split("-")[0]

    def covers(self, posting: Posting) -> Path | None:
        """Where in the posting this jurisdiction is reached (a path), or None."""
        for i, loc in enumerate(posting.locations):
            if self.code == "EU":
                if loc.country in EU:
                    return ("locations", i, "country")
            elif self.cities:
                if (
                    loc.country == self.country
                    and loc.region == self.region
                    and loc.city.casefold() in {c.casefold() for c in self.cities}
                ):
                    return ("locations", i, "city")
            elif f"{loc.country}-{loc.region}" == self.code or loc.country == self.code:
                return ("locations", i, "region" if loc.region else "country")
        if self.remote and posting.workplace != "onsite":
            for i, area in enumerate(posting.remote_eligibility):
                if area in (self.code, self.country) or (self.code == "EU" and area in EU):
                    return ("remote_eligibility", i)
        return None

    def severity(self, posting: Posting, ctx: RuleContext) -> Severity | None:
        """Whether the posting's window reaches the law: None (it ends before), a warning
        (it starts before the law applies, or the row only warns), or an error."""
        start = max(posting.publish_time(ctx.timezone) or ctx.now, ctx.now)
        end = posting.expiry_time(ctx.timezone)
        if self.effective is not None:
            begins = datetime.combine(self.effective, datetime.min.time(), UTC)
            if end is not None and end < begins:
                return None
            hard = datetime.combine(self.enforced or self.effective, datetime.min.time(), UTC)
            if start < hard or self.warn_only:
                return "warning"
        return "warning" if self.warn_only else "error"

    def employs(self, ctx: RuleContext) -> bool:
        if self.min_employees is None:
            return True
        staff = ctx.employees_in.get(self.code) if self.count == "local" else None
        staff = staff if staff is not None else ctx.employees
        return staff is None or staff >= self.min_employees

    def since(self) -> str:
        when = self.enforced or self.effective
        return f" since {when.isoformat()}" if when else ""


@cache
def jurisdictions() -> tuple[Jurisdiction, ...]:
    """Every row of the data file, in its order."""
    text = files("publisher.data").joinpath("pay_transparency.toml").read_text("utf-8")
    rows: list[dict[str, Any]] = tomllib.loads(text)["jurisdiction"]
    return tuple(
        Jurisdiction(
            **{
                **row,
                "requires": frozenset(row.get("requires", ())),
                "cities": tuple(row.get("cities", ())),
                "sources": tuple(row.get("sources", ())),
            }
        )
        for row in rows
    )


#: (need, where the posting is) -> the rows asking for ``need`` that cover such a posting,
#: with where; postings share a few places, so each place is judged once per process (a
#: long ``jobpub run`` seeing ever new places starts over at ``_COVERING_MOST`` entries).
_COVERING: dict[tuple[Any, ...], tuple[tuple[Jurisdiction, Path], ...]] = {}
_COVERING_MOST = 4096


def _covering(posting: Posting, need: str) -> tuple[tuple[Jurisdiction, Path], ...]:
    key = (
        need,
        posting.workplace,
        tuple(posting.remote_eligibility),
        tuple((loc.country, loc.region, loc.city) for loc in posting.locations),
    )
    found = _COVERING.get(key)
    if found is None:
        if len(_COVERING) >= _COVERING_MOST:
            _COVERING.clear()
        found = _COVERING[key] = tuple(
            (row, where)
            for row in jurisdictions()
            if not row.advisory
            and need in row.requires
            and (where := row.covers(posting)) is not None
        )
    return found


def _applying(
    posting: Posting, ctx: RuleContext, need: str
) -> Iterator[tuple[Jurisdiction, Path, Severity]]:
    for row, where in _covering(posting, need):
        severity = row.severity(posting, ctx) if row.employs(ctx) else None
        if severity is not None:
            yield row, where, severity


def _who(row: Jurisdiction) -> str:
    note = f"; {row.note}" if row.note else ""
    return f"{row.name} ({row.law}){row.since()}{note}"


def check_pay(posting: Posting, ctx: RuleContext) -> Iterator[Problem]:
    """``pay-transparency``: pay (or a range with both ends) where a covering law asks."""
    pay = posting.salary
    for need in ("pay", "range"):
        for row, where, severity in _applying(posting, ctx, need):
            if pay is None:
                stand_in = STAND_IN.search(posting.summary)
                extra = f" ('{stand_in.group(0)}' does not count)" if stand_in else ""
                yield Problem(
                    "pay-transparency",
                    f"{_who(row)} requires the pay "
                    f"{'range' if need == 'range' else 'rate or range'} in the "
                    f"posting: add salary{extra}",
                    where,
                    severity,
                )
            elif (
                need == "range"
                and not row.fixed_allowed
                and (pay.max is None or pay.max == pay.min)
            ):
                yield Problem(
                    "pay-transparency",
                    f"{_who(row)} requires both ends of the pay range: add salary.max",
                    ("salary",),
                    severity,
                )
            elif row.max_width is not None or row.exempt_above is not None:
                yield from _width(row, pay, severity)


def _width(row: Jurisdiction, pay: Any, severity: Severity) -> Iterator[Problem]:
    top = (pay.max or pay.min) * YEAR[pay.period]
    if row.exempt_above is not None and top > row.exempt_above:
        return
    width = ((pay.max or pay.min) - pay.min) * YEAR[pay.period]
    if row.max_width is not None and width > row.max_width:
        yield Problem(
            "pay-transparency",
            f"{_who(row)} allows a range at most "
            f"{row.max_width:,.0f} a year wide; this one is {width:,.0f}",
            ("salary", "max"),
            severity,
        )


def check_benefits(posting: Posting, ctx: RuleContext) -> Iterator[Problem]:
    """``benefits-required``: a description of benefits where a covering law asks."""
    if posting.benefits:
        return
    for row, where, severity in _applying(posting, ctx, "benefits"):
        yield Problem(
            "benefits-required",
            f"{_who(row)} requires a general description of "
            "benefits and other compensation: add benefits",
            where,
            severity,
        )


def check_disclosures(posting: Posting, ctx: RuleContext) -> Iterator[Problem]:
    """``disclosure-required``: statements a covering law wants in the posting itself."""
    said = posting.disclosures
    asks = {
        "close_date": (
            posting.expires_at is not None,
            "the date the application window is expected to close: add expires_at",
        ),
        "ai_disclosure": (
            said is not None and said.ai_screening is not None,
            "whether AI screens, assesses or selects applicants: add disclosures.ai_screening",
        ),
        "vacancy_disclosure": (
            said is not None and said.existing_vacancy is not None,
            "whether the posting is for an existing vacancy: add disclosures.existing_vacancy",
        ),
    }
    for need, (present, what) in asks.items():
        if present:
            continue
        for row, where, severity in _applying(posting, ctx, need):
            yield Problem("disclosure-required", f"{_who(row)} requires {what}", where, severity)
