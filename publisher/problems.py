"""Problems found in posting files, before and after they are given a position."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = ["Finding", "Problem", "Severity", "did_you_mean", "format_path"]

Severity = Literal["error", "warning"]
Path = tuple[str | int, ...]


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
