"""ISO code lookups (countries, subdivisions, currencies, languages) and IANA time zones.

The code lists are the Debian iso-codes database as pycountry ships it, precomputed into
``data/iso_codes.json`` (read in a few milliseconds, where loading pycountry's tables took
60-200 ms of every ``validate``). ``python -m publisher.codes`` rewrites the file from the
installed pycountry; a test checks the file still matches it.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "country_name",
    "has_subdivisions",
    "is_country",
    "is_currency",
    "is_language",
    "is_subdivision",
    "is_timezone",
    "subdivision_name",
]


@cache
def _tables() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        files("publisher.data").joinpath("iso_codes.json").read_text(encoding="utf-8")
    )
    return data


def _countries() -> dict[str, str]:
    return _tables()["countries"]  # type: ignore[no-any-return]


def _subdivisions() -> dict[str, str]:
    return _tables()["subdivisions"]  # type: ignore[no-any-return]


@cache
def _currencies() -> frozenset[str]:
    return frozenset(_tables()["currencies"])


@cache
def _languages() -> frozenset[str]:
    return frozenset(_tables()["languages"])


def from_pycountry() -> dict[str, Any]:
    """The tables as the installed pycountry has them (what the data file must hold)."""
    import pycountry

    return {
        "pycountry": _version("pycountry"),
        "countries": {c.alpha_2: c.name for c in pycountry.countries},
        "subdivisions": {s.code: s.name for s in pycountry.subdivisions},
        "currencies": sorted(c.alpha_3 for c in pycountry.currencies),
        "languages": sorted(
            lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2")
        ),
    }


def _version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


def is_country(code: str) -> bool:
    """True for an ISO 3166-1 alpha-2 code such as ``US`` or ``NO``."""
    return code in _countries()


def country_name(code: str) -> str:
    """The English short name of an ISO 3166-1 alpha-2 code (the code itself if unknown)."""
    return _countries().get(code, code)


def is_subdivision(code: str) -> bool:
    """True for an ISO 3166-2 code such as ``US-CO``."""
    return code in _subdivisions()


def subdivision_code(country: str, name: str) -> str | None:
    """The region code (``OH``) of a subdivision named ``name`` (``Ohio``) in ``country``."""
    wanted = name.strip().casefold()
    for code, full in _subdivisions().items():
        if code.startswith(f"{country}-") and full.casefold() == wanted:
            return code.partition("-")[2]
    return None


def subdivision_name(code: str) -> str:
    """The name of an ISO 3166-2 subdivision (the code itself if unknown)."""
    return _subdivisions().get(code, code)


@cache
def _countries_with_subdivisions() -> frozenset[str]:
    return frozenset(code.partition("-")[0] for code in _subdivisions())


def has_subdivisions(country: str) -> bool:
    """True when ISO 3166-2 lists subdivisions for the country."""
    return country in _countries_with_subdivisions()


def is_currency(code: str) -> bool:
    """True for an ISO 4217 currency code such as ``USD``."""
    return code in _currencies()


def is_language(code: str) -> bool:
    """True for an ISO 639-1 language code such as ``en``."""
    return code in _languages()


@cache
def is_timezone(name: str) -> bool:
    """True for an IANA time-zone name such as ``America/Denver``."""
    if not name or name.startswith(("/", ".")) or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


if __name__ == "__main__":  # python -m publisher.codes: rewrite the data file
    target = Path(__file__).parent / "data/iso_codes.json"
    target.write_text(
        json.dumps(from_pycountry(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        + "\n",
        encoding="utf-8",
    )
    sys.stdout.write(f"wrote {target}\n")
