"""A double of Reed's Recruiter posting API, from its documentation: signed requests
(``X-ApiClientId``, ``X-Timestamp``, ``X-ApiSignature`` checked the documented way), ``POST
/jobs`` posting a job (Reed keeps no reference of ours: a repeated post is a second job, which
the double counts), and ``PUT`` / ``DELETE /jobs/{jobId}`` (the verbs this adapter assumes)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from tests.conformance import REASON, Double, json_body

API = "https://www.reed.co.uk/recruiter/api/1.0"
CLIENT, KEY = "reed-client-7", "reed-api-key-0f3b"


def expected_signature(method: str, agent: str, url: str, stamp: str) -> str:
    """The documented signature, computed here independently of the adapter."""
    text = f"{method}{agent}{url}www.reed.co.uk{stamp}".encode()
    return base64.b64encode(hmac.new(KEY.encode(), text, hashlib.sha1).digest()).decode()


class ReedDouble(Double):
    prefixes: ClassVar[tuple[str, ...]] = (API,)
    env: ClassVar[Mapping[str, str]] = {"REED_CLIENT_ID": CLIENT, "REED_API_KEY": KEY}
    settings: ClassVar[Mapping[str, Any]] = {"username": "hr@example.co.uk"}
    posting: ClassVar[Mapping[str, Any]] = {
        "locations": [{"country": "GB", "city": "Manchester", "postal_code": "M1 1AE"}],
        "salary": {"min": 38000, "max": 46000, "currency": "GBP", "period": "year"},
    }

    def __init__(self) -> None:
        super().__init__()
        self.jobs: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(50001)

    def process(self, request: httpx.Request) -> httpx.Response:
        headers = request.headers
        signature = expected_signature(
            request.method, headers["User-Agent"], str(request.url), headers["X-Timestamp"]
        )
        if headers["X-ApiClientId"] != CLIENT or headers["X-ApiSignature"] != signature:
            return httpx.Response(401, json={"message": "Invalid signature"})
        if request.method == "POST":
            body = json_body(request)
            if len(body.get("description", "")) < 150:
                return httpx.Response(400, json={"message": f"{REASON}: description"})
            job_id = str(next(self._ids))
            self.jobs[job_id] = {**body, "open": True}
            return httpx.Response(201, json={"jobId": int(job_id)})
        job = self.jobs.get(request.url.path.rsplit("/", 1)[-1])
        if job is None or not job["open"]:
            return httpx.Response(404, json={"message": "Job not found"})
        if request.method == "PUT":
            job.update(json_body(request))
        else:
            job["open"] = False
        return httpx.Response(200, json={})

    def close_out_of_band(self, ref: str) -> None:
        for job in self.jobs.values():  # (Reed knows no reference of ours: the one posting)
            job["open"] = False

    def open_refs(self) -> dict[str, int]:
        """Reed knows no reference of ours: every open job counts for the one posting."""
        count = sum(1 for job in self.jobs.values() if job["open"])
        return {"jobpub-data-analyst-reed": count} if count else {}

    def content(self, ref: str) -> str:
        return next((str(j["title"]) for j in reversed(self.jobs.values()) if j["open"]), "")
