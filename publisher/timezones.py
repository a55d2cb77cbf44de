"""Which time zones a place can be in: a US state's own zones, otherwise its country's
(from the tz database's ``zone.tab``, shipped by the tzdata package).

Used to warn when a posting's dates would be read in a zone none of its places is in
(Columbus, OH under ``America/Denver``): its publish and expiry times would be hours off.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache, lru_cache
from importlib.resources import files
from zoneinfo import ZoneInfo

__all__ = ["matches", "zones_of"]

_E, _C, _M, _P = "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"
#: US states and their zones (the main one first); states split between two list both.
_STATES = {
    "CT DE DC GA ME MD MA NH NJ NY NC OH PA RI SC VT VA WV": (_E,),
    "FL IN KY MI": (_E, _C),
    "AL AR IL IA LA MN MS MO OK WI": (_C,),
    "TN": (_C, _E),
    "TX KS NE ND SD": (_C, _M),
    "CO MT NM UT WY": (_M,),
    "CA NV WA": (_P,),
}
US_STATES: dict[str, tuple[str, ...]] = {
    **{state: zones for states, zones in _STATES.items() for state in states.split()},
    "AZ": ("America/Phoenix", _M),
    "ID": (_M, _P),
    "OR": (_P, _M),
    "AK": ("America/Anchorage", "America/Adak"),
    "HI": ("Pacific/Honolulu",),
    "PR": ("America/Puerto_Rico",),
    "GU": ("Pacific/Guam",),
    "VI": ("America/St_Thomas",),
}


@cache
def _country_zones() -> dict[str, tuple[str, ...]]:
    table = files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    found: dict[str, list[str]] = {}
    for line in table.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        codes, _, zone = line.split("\t")[:3]
        for code in codes.split(","):
            found.setdefault(code, []).append(zone)
    return {code: tuple(zones) for code, zones in found.items()}


def zones_of(country: str, region: str | None = None) -> tuple[str, ...]:
    """The zones a place in ``country`` (and US ``region``) may be in; () if unknown."""
    if country == "US":  # a state says which; the country alone spans eleven hours
        return US_STATES.get(region or "", ())
    return _country_zones().get(country, ())


def matches(zone: str, country: str, region: str | None, when: datetime) -> bool:
    """Whether ``zone`` keeps the same time as one of the place's zones at ``when``."""
    candidates = zones_of(country, region)
    if not candidates or zone in candidates:
        return True  # nothing known: no warning; or one of the place's own zones
    offset = _offset(zone, when)
    return any(_offset(z, when) == offset for z in candidates)


@lru_cache(maxsize=4096)
def _offset(zone: str, when: datetime) -> timedelta | None:
    """``zone``'s UTC offset at ``when`` (postings share a few publish times)."""
    return when.astimezone(ZoneInfo(zone)).utcoffset()
