"""A double of StepStone's JobFeed push interface, from its documentation: a form POST with
username, password, ``xmlresponse`` and the XML; listings keyed by ``reference_id`` (an INSERT
of a known reference is answered IGNORE, never doubled; an offline reference stays taken);
answers as ``<jobfeedresponse>`` with the documented status codes."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import parse_qs
from xml.etree.ElementTree import fromstring

import httpx

from tests.conformance import REASON, Double

URL = "https://jobfeed.stepstone.example/push"
USER, PASSWORD = "de-example", "stepstone-pass-1618"


def answer(
    code: int, status: str, reference: str = "", listing: str = "", action: str = ""
) -> httpx.Response:
    return httpx.Response(
        200,
        text=(
            f"<jobfeedresponse><senderid>8812</senderid><reference>{reference}</reference>"
            f"<listingid>{listing}</listingid><action>{action}</action>"
            f"<status><![CDATA[{status}]]></status><statuscode>{code}</statuscode>"
            "<comments/></jobfeedresponse>"
        ),
    )


class StepStoneDouble(Double):
    prefixes: ClassVar[tuple[str, ...]] = (URL,)
    env: ClassVar[Mapping[str, str]] = {"STEPSTONE_USERNAME": USER, "STEPSTONE_PASSWORD": PASSWORD}
    settings: ClassVar[Mapping[str, Any]] = {"url": URL}

    def __init__(self) -> None:
        super().__init__()
        self.listings: dict[str, dict[str, Any]] = {}
        self.inserts: list[str] = []
        self._ids = itertools.count(12738)

    def process(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        if (form.get("username"), form.get("password")) != (USER, PASSWORD):
            return answer(220, "Invalid credentials")
        assert form["xmlresponse"] == "true"
        job = fromstring(form["xml"]).find("joblisting")
        assert job is not None
        ref, action = job.get("reference_id", ""), job.get("action", "")
        if ref == self.bad_ref or (action != "OFFLINE" and not job.findtext("title")):
            return answer(204, f"{REASON}: title missing", ref)
        held = self.listings.get(ref)
        if action == "INSERT":
            if held is not None:
                return answer(100, "OK", ref, held["id"], "IGNORE")
            self.inserts.append(ref)
            held = self.listings[ref] = {"id": str(next(self._ids))}
        elif held is None:
            return answer(206, "Reference unknown", ref)
        if action == "OFFLINE":
            held["online"] = False
        else:
            held.update(online=True, title=job.findtext("title"))
        return answer(100, "OK", ref, held["id"], action)

    def close_out_of_band(self, ref: str) -> None:
        for key, held in self.listings.items():
            if key.split(".")[0] == ref:
                held["online"] = False

    def open_refs(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for ref, held in self.listings.items():
            if held.get("online"):
                base = ref.split(".")[0]
                found[base] = found.get(base, 0) + self.inserts.count(ref)
        return found

    def content(self, ref: str) -> str:
        return str(self.listings.get(ref, {}).get("title"))
