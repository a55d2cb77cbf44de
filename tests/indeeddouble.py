"""A double of Indeed's Job Sync API, from its documentation: OAuth client-credentials
tokens, ``POST /graphql`` with ``createSourcedJobPostings`` (an upsert keyed by jobPostingId
and sourceName: a repeat changes the one job, never makes a second) and
``expireSourcedJobsBySourcedPostingId``; a rejected job is a null ``jobPosting`` with its
reason in GraphQL ``errors`` inside an HTTP 200. ``new_ids`` makes the next upsert answer a new
sourcedPostingId (as after a reactivation past 30 days)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from tests.conformance import REASON, Double, json_body

API = "https://apis.indeed.com"
TOKEN_URL = "https://apis.indeed.com/oauth/v2/tokens"


class IndeedDouble(Double):
    prefixes: ClassVar[tuple[str, ...]] = (API,)
    env: ClassVar[Mapping[str, str]] = {
        "INDEED_CLIENT_ID": "indeed-client",
        "INDEED_CLIENT_SECRET": "indeed-secret-5772",
    }
    settings: ClassVar[Mapping[str, Any]] = {"source_name": "Example Corp careers"}

    def __init__(self) -> None:
        super().__init__()
        self.jobs: dict[str, dict[str, Any]] = {}  # jobPostingId -> job
        self.new_ids = False
        self.bodies: list[dict[str, Any]] = []
        self._ids = itertools.count(1)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        if str(request.url) == TOKEN_URL:
            return httpx.Response(200, json={"access_token": "indeed-token", "expires_in": 3600})
        return await super().handle(request)

    def process(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == "Bearer indeed-token"
        body = json_body(request)
        self.bodies.append(body)
        inputs = body["variables"]["input"]
        if body["operationName"] == "ExpireSourcedJobs":
            (job,) = inputs["jobs"]
            found = [j for j in self.jobs.values() if j["id"] == job["sourcedPostingId"]]
            if not found or not found[0]["open"]:
                return self.errors("NOT_FOUND", "No job with this sourcedPostingId")
            found[0]["open"] = False
            return httpx.Response(
                200,
                json={
                    "data": {
                        "jobsIngest": {
                            "expireSourcedJobsBySourcedPostingId": {
                                "results": [{"trackingKey": "t"}]
                            }
                        }
                    }
                },
            )
        results, errors = [], []
        for n, job in enumerate(inputs["jobPostings"]):
            ref = job["metadata"]["jobPostingId"]
            if ref == self.bad_ref or not job["body"]["title"]:
                results.append({"jobPosting": None})
                errors.append(
                    {
                        "message": f"{REASON}: title",
                        "path": [
                            "jobsIngest",
                            "createSourcedJobPostings",
                            "results",
                            n,
                            "jobPosting",
                        ],
                        "extensions": {"code": "BAD_USER_INPUT"},
                    }
                )
                continue
            held = self.jobs.get(ref)
            if held is None or self.new_ids:
                held = self.jobs[ref] = {
                    "id": f"sp-{next(self._ids)}",
                    "creates": (held or {}).get("creates", 0) + (held is None),
                }
            held.update(open=True, title=job["body"]["title"], job=job)
            results.append({"jobPosting": {"sourcedPostingId": held["id"]}})
        answer: dict[str, Any] = {
            "data": {"jobsIngest": {"createSourcedJobPostings": {"results": results}}}
        }
        if errors:
            answer["errors"] = errors
        return httpx.Response(200, json=answer)

    def errors(self, code: str, message: str) -> httpx.Response:
        return httpx.Response(
            200, json={"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}
        )

    def close_out_of_band(self, ref: str) -> None:
        self.jobs[ref]["open"] = False

    def open_refs(self) -> dict[str, int]:
        return {ref: held["creates"] for ref, held in self.jobs.items() if held["open"]}

    def content(self, ref: str) -> str:
        return str(self.jobs.get(ref, {}).get("title"))
