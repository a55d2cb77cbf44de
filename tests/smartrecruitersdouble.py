"""A double of SmartRecruiters' customer Job API, from its specification's shapes: ``POST
/jobs`` (a ``JobDetails`` with its ``id``; nothing stops two jobs with one ``refNumber``, so
a double create would show), ``GET /jobs`` (``{"content": [JobSummary], "totalFound"}``,
paged by ``limit``/``offset``), ``PATCH /jobs/{id}`` (JSON Patch), ``POST`` / ``DELETE
/jobs/{id}/publication``; ``X-SmartToken`` on every call."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from tests.conformance import Double, json_body

API = "https://api.smartrecruiters.com"
TOKEN = "sr-token-2718"


class SmartRecruitersDouble(Double):
    prefixes: ClassVar[tuple[str, ...]] = (API,)
    env: ClassVar[Mapping[str, str]] = {"SMARTRECRUITERS_API_KEY": TOKEN}
    settings: ClassVar[Mapping[str, Any]] = {"industry": "47", "function": "it"}

    def __init__(self) -> None:
        super().__init__()
        self.jobs: dict[str, dict[str, Any]] = {}
        self.publications = 0
        self._ids = itertools.count(1001)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":  # the kit's faults are for the writes
            return self.process(request)
        return await super().handle(request)

    def process(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["X-SmartToken"] == TOKEN
        parts = request.url.path.strip("/").split("/")  # jobs[/id[/publication]]
        if request.method == "POST" and parts == ["jobs"]:
            body = json_body(request)
            if body.get("refNumber") == self.bad_ref:
                return httpx.Response(
                    400, json={"message": "the board explains what is wrong here"}
                )
            job_id = str(next(self._ids))
            self.jobs[job_id] = {**body, "id": job_id, "postingStatus": "NOT_PUBLISHED"}
            return httpx.Response(201, json={"id": job_id, **body})
        if request.method == "GET" and parts == ["jobs"]:
            offset, limit = (
                int(request.url.params.get(k, d)) for k, d in (("offset", 0), ("limit", 10))
            )
            items = list(self.jobs.values())[offset : offset + limit]
            return httpx.Response(
                200,
                json={
                    "totalFound": len(self.jobs),
                    "content": [
                        {k: j[k] for k in ("id", "title", "refNumber", "postingStatus")}
                        for j in items
                    ],
                },
            )
        job = self.jobs.get(parts[1]) if len(parts) > 1 else None
        if job is None:
            return httpx.Response(404, json={"message": "Job not found"})
        if request.method == "PATCH":
            assert request.headers["Content-Type"] == "application/json-patch+json"
            for op in json_body_list(request):
                job[op["path"].strip("/")] = op["value"]
        elif parts[2:] == ["publication"] and request.method == "POST":
            self.publications += 1
            job["postingStatus"] = "PUBLISHED"
        elif parts[2:] == ["publication"] and request.method == "DELETE":
            if job["postingStatus"] != "PUBLISHED":
                return httpx.Response(404, json={"message": "Job is not published"})
            job["postingStatus"] = "UNPUBLISHED"
        return httpx.Response(200, json={"id": job["id"], "postingStatus": job["postingStatus"]})

    def close_out_of_band(self, ref: str) -> None:
        for job in self.jobs.values():
            if job["refNumber"] == ref and job["postingStatus"] == "PUBLISHED":
                job["postingStatus"] = "UNPUBLISHED"

    def open_refs(self) -> dict[str, int]:
        """Jobs per reference that are out or about to be (a second job made by a repeated
        create counts even before it is published)."""
        found: dict[str, int] = {}
        for job in self.jobs.values():
            if job["postingStatus"] in ("PUBLISHED", "NOT_PUBLISHED"):
                found[job["refNumber"]] = found.get(job["refNumber"], 0) + 1
        return found

    def content(self, ref: str) -> str:
        return next((str(j["title"]) for j in self.jobs.values() if j["refNumber"] == ref), "")


def json_body_list(request: httpx.Request) -> list[dict[str, Any]]:
    import json

    data = json.loads(request.content or b"[]")
    return data if isinstance(data, list) else []
