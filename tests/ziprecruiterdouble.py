"""A double of ZipRecruiter's Partner Job API, from its documentation: ``POST /job`` (a job
whose ``job_id`` exists is refused), ``PUT`` / ``GET`` / ``DELETE /job/{job_id}`` with the id
percent-encoded, Basic auth with the API key. Closed jobs stay (GET shows them closed; a PUT
reopens one), so a double-post would show as two creates of one id."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import unquote

import httpx

from tests.conformance import Double, json_body

API = "https://api.ziprecruiter.com/partner/v0"
KEY = "zr-key-31415"


class ZipRecruiterDouble(Double):
    prefixes = (API,)
    env: ClassVar[Mapping[str, str]] = {"ZIPRECRUITER_API_KEY": KEY}

    def __init__(self) -> None:
        super().__init__()
        self.jobs: dict[str, dict[str, Any]] = {}
        self.creates: list[str] = []

    def process(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == f"Basic {KEY}"
        path = request.url.raw_path.decode().split("?")[0]
        job_id = unquote(path.rsplit("/job/", 1)[1]) if "/job/" in path else None
        job = self.jobs.get(job_id or "")
        if request.method == "POST":
            body = json_body(request)
            if body.get("job_id") == self.bad_ref:
                return httpx.Response(
                    400,
                    json={"error": "the board explains what is wrong here: job_title is invalid"},
                )
            if body["job_id"] in self.jobs:
                return httpx.Response(400, json={"error": "A job with this job_id already exists"})
            self.creates.append(body["job_id"])
            self.jobs[body["job_id"]] = {**body, "status": "open"}
            return httpx.Response(201, json=self.view(body["job_id"]))
        if job is None:
            return httpx.Response(404, json={"error": "job not found"})
        if request.method == "PUT":
            job.update({**json_body(request), "status": "open"})
        elif request.method == "DELETE":
            job["status"] = "closed"
        return httpx.Response(200, json=self.view(job["job_id"]))

    def view(self, job_id: str) -> dict[str, Any]:
        job = self.jobs[job_id]
        return {
            "job_id": job_id,
            "status": job["status"],
            "url": f"https://www.ziprecruiter.com/jobs/{job_id}",
        }

    def close_out_of_band(self, ref: str) -> None:
        self.jobs[ref]["status"] = "closed"

    def open_refs(self) -> dict[str, int]:
        return {
            ref: self.creates.count(ref)
            for ref, job in self.jobs.items()
            if job["status"] == "open"
        }

    def content(self, ref: str) -> str:
        return str(self.jobs.get(ref, {}).get("job_title"))
