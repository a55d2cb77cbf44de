"""A double of LinkedIn's Job Posting API, from the shapes of its official OpenAPI file
(job_posting_v2.yaml): the token endpoint, ``POST /simpleJobPostings`` (batch_create, one
answer per element inside a 200) and ``GET /simpleJobPostingTasks?ids=..`` (answers in
``results`` keyed by task id, as the file's examples do).

It is as unforgiving as the product must assume LinkedIn is: a second CREATE of an external
id makes a second job (so a double-post shows), an UPDATE / RENEW / CLOSE of an id it does
not have fails its task (so does a CLOSE of a job closed already), and an element missing a
required field or with a description under 100 characters is refused with the file's 422
error shape.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import httpx

from tests.conformance import REASON, Double, json_body

API = "https://api.linkedin.com/v2"
TOKEN_URL = "https://www.linkedin.com/oauth/v2/accessToken"
REQUIRED = (
    "companyApplyUrl",
    "externalJobPostingId",
    "jobPostingOperationType",
    "description",
    "title",
    "listedAt",
    "location",
)


class LinkedInDouble(Double):
    """Jobs by external id (a list: duplicates are kept and counted), tasks by URN.

    Knobs: ``slow`` (polls a task answers IN_PROGRESS before it finishes), ``fail_task``
    (the next task fails with :data:`REASON`), ``bad_ref`` (elements of this external id
    are refused inside the 200); the kit's HTTP faults apply to job calls only."""

    prefixes = (API, TOKEN_URL)
    env: ClassVar[Mapping[str, str]] = {
        "LINKEDIN_CLIENT_ID": "client-77",
        "LINKEDIN_CLIENT_SECRET": "linkedin-secret-value-9",
    }

    def __init__(self) -> None:
        super().__init__()
        self.jobs: dict[str, list[dict[str, Any]]] = {}
        self.tasks: dict[str, dict[str, Any]] = {}
        self.slow = 0
        self.fail_task = False
        self.bad_ref: str | None = None
        self.calls: list[dict[str, Any]] = []  # batch bodies, as sent
        self.polls = 0
        self.tokens = 0
        self._ids = itertools.count(1)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth/v2/accessToken"):
            self.tokens += 1
            return httpx.Response(
                200, json={"access_token": f"token-{self.tokens}", "expires_in": 1800}
            )
        if request.method == "GET":
            return self.poll(request)
        return await super().handle(request)

    def process(self, request: httpx.Request) -> httpx.Response:
        assert request.headers.get("X-Restli-Method") == "batch_create"
        assert request.headers["Authorization"].startswith("Bearer token-")
        body = json_body(request)
        self.calls.append(body)
        return httpx.Response(200, json={"elements": [self.element(e) for e in body["elements"]]})

    def element(self, job: dict[str, Any]) -> dict[str, Any]:
        missing = [f for f in REQUIRED if f not in job]
        if (
            missing
            or len(job["description"]) < 100
            or job["externalJobPostingId"] == self.bad_ref
            or len(job["externalJobPostingId"]) > 75
        ):
            why = f"ERROR :: /{missing[0]} :: field is required" if missing else REASON
            return {"error": {"message": why, "status": 422}, "status": 422}
        n = next(self._ids)
        urn = f"urn:li:simpleJobPostingTask:{n}-abc"
        # LinkedIn processes the job whether or not anyone polls: done now, told on polls.
        self.tasks[urn] = {"answer": self.apply(job, self.fail_task), "left": self.slow}
        self.fail_task = False
        return {
            "id": urn,
            "status": 202,
            "location": f"/simpleJobPostings/urn%3Ali%3AsimpleJobPostingTask%3A{n}-abc",
        }

    def poll(self, request: httpx.Request) -> httpx.Response:
        self.polls += 1
        ids = [v for k, v in parse_qsl(request.url.query.decode()) if k == "ids"]
        results = {}
        for urn in ids:
            task = self.tasks.get(urn)
            if task is None:
                continue
            if task["left"] > 0:
                task["left"] -= 1
                results[urn] = {"id": urn, "status": "IN_PROGRESS"}
                continue
            results[urn] = {"id": urn, **task["answer"]}
        return httpx.Response(200, json={"results": results, "statuses": {}, "errors": {}})

    def apply(self, job: dict[str, Any], fail: bool) -> dict[str, Any]:
        ext, op = job["externalJobPostingId"], job["jobPostingOperationType"]
        if fail:
            return {"status": "FAILED", "errorMessage": REASON}
        held = self.jobs.setdefault(ext, [])
        if op == "CREATE":
            held.append(
                {**job, "open": True, "urn": f"urn:li:jobPosting:{next(self._ids)}", "renewals": 0}
            )
            return {"status": "SUCCEEDED", "jobPosting": held[-1]["urn"]}
        if not held:
            return {"status": "FAILED", "errorMessage": f"Job {ext} was not found"}
        current = held[-1]
        if op == "UPDATE":
            current.update({k: v for k, v in job.items() if k != "jobPostingOperationType"})
            current["open"] = True
        elif op == "RENEW":
            current["renewals"] += 1
        elif not current["open"]:  # closed already (on LinkedIn, or by an earlier CLOSE)
            return {"status": "FAILED", "errorMessage": f"Job {ext} is not among open jobs"}
        else:
            current["open"] = False
        return {"status": "SUCCEEDED", "jobPosting": current["urn"]}

    def close_out_of_band(self, ref: str) -> None:
        for job in self.jobs.get(ref, []):
            job["open"] = False

    def open_refs(self) -> dict[str, int]:
        return {
            ext: n for ext, held in self.jobs.items() if (n := sum(1 for j in held if j["open"]))
        }

    def created(self) -> dict[str, int]:
        """External id -> how many jobs were ever created for it."""
        return {ext: len(held) for ext, held in self.jobs.items()}

    def content(self, ref: str) -> str:
        held = self.jobs.get(ref) or [{}]
        return str(held[-1].get("title"))
