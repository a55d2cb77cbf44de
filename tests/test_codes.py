"""The ISO code tables jobpub ships (``publisher/data/iso_codes.json``) are pycountry's, and
the lookups read them."""

from __future__ import annotations

import json
from importlib.resources import files

from publisher import codes


def test_the_shipped_tables_are_the_installed_pycountrys() -> None:
    shipped = json.loads(files("publisher.data").joinpath("iso_codes.json").read_text())
    current = codes.from_pycountry()
    assert {k: v for k, v in shipped.items() if k != "pycountry"} == {
        k: v for k, v in current.items() if k != "pycountry"
    }, "pycountry changed its tables: run python -m publisher.codes and review the diff"


def test_lookups() -> None:
    assert codes.is_country("NO") and not codes.is_country("XX")
    assert codes.is_subdivision("US-CO") and codes.subdivision_name("US-CO") == "Colorado"
    assert codes.subdivision_code("US", "ohio") == "OH"
    assert codes.has_subdivisions("DE") and codes.country_name("DE") == "Germany"
    assert codes.is_currency("EUR") and not codes.is_currency("EURO")
    assert codes.is_language("de") and not codes.is_language("deu")
