"""Problems found in posting files, before and after they are given a position."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = ["RULES", "Finding", "Problem", "Severity", "did_you_mean", "format_path"]

Severity = Literal["error", "warning"]
Path = tuple[str | int, ...]

#: Every rule id (stable: users filter and script on them) and what it checks.
RULES: dict[str, str] = {
    "yaml-syntax": "the file is valid YAML, UTF-8, under 1 MiB, without aliases or tags",
    "schema": "fields present, known, of the right type and range",
    "id-mismatch": "id equals the file name",
    "duplicate-id": "no two files share an id",
    "placeholder": "no unfilled template text ([City, State], TBD, lorem ipsum ...)",
    "dates": "expires_at after publish_at; an open posting not already expired",
    "salary": "positive amounts, min <= max, plausible for the period",
    "remote-eligibility": "a fully remote job says where applicants may live",
    "timezone": "the dates' time zone is a work location's (warning)",
    "pay-transparency": "pay, or a range with both ends, where a covering law asks for it",
    "benefits-required": "a benefits description where a covering law asks for it",
    "disclosure-required": "statements a covering law asks for (close date, AI screening, "
    "existing vacancy)",
    "board-rule": "the rules of each of the posting's boards",
    "eeo-statement": "an EEO statement; VEVRAA / Section 503 for federal contractors (warning)",
    "inclusive-language": "no age-coded phrases, gendered job titles or masculine-leaning "
    "wording (warning)",
}


@dataclass(frozen=True, slots=True)
class Problem:
    """What a rule returns: a rule id, a message and where in the posting it applies.

    ``path`` is a pydantic-style location (``("locations", 0, "city")``); ``needle`` is the
    offending text inside that value, so the problem can point at its exact line.
    """

    rule: str
    message: str
    path: Path = ()
    severity: Severity = "error"
    board: str | None = None
    needle: str | None = None
    at_key: bool = False


@dataclass(frozen=True, slots=True)
class Finding:
    """A problem placed in a file, as every output format reports it."""

    file: str
    line: int | None
    column: int | None
    severity: Severity
    rule: str
    message: str
    board: str | None = None

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.file, self.line or 0, self.column or 0, self.rule, self.message)


def format_path(path: Path) -> str:
    """``("locations", 0, "city")`` -> ``locations[0].city``."""
    out = ""
    for part in path:
        if part == "[key]":
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """The closest of ``choices`` to a mistyped ``word``, if one is close enough."""
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1)
    return close[0] if close else None
