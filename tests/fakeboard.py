"""An in-memory job board API served through respx, and the adapter that talks to it.

The board keeps jobs by id, finds them by our external reference, and can be told to fail
the next calls in the ways real boards do:

* ``"429:7"``         429 Too Many Requests with ``Retry-After: 7`` (nothing processed)
* ``"503"``, ``"400"`` that status (nothing processed; 400 carries a reason)
* ``"connect"``       a connection error before anything was sent
* ``"timeout-after"`` the request is processed, then the client's read times out
* ``"drop"``          the request is processed, then the connection drops
* ``"malformed"``     the request is processed, then answered with an empty JSON object
* ``"ok"``            no fault for this call (to place a fault on a later one)

Like many boards, it refuses a second open job with the same external reference (409).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import deque
from datetime import timedelta
from typing import Any, ClassVar

import httpx
import respx

from publisher.adapter import ApiAdapter, BoardRules, BoardSettings, Receipt, RefreshPolicy
from publisher.errors import OutcomeUnknown
from publisher.schema import Posting

BASE_URL = "https://fakeboard.test"


class FakeBoard:
    def __init__(
        self, router: respx.MockRouter | None, base_url: str = BASE_URL, latency: float = 0.0
    ) -> None:
        self.jobs: dict[str, dict[str, Any]] = {}
        self.faults: deque[str] = deque()
        self.calls: list[tuple[str, str]] = []
        self.latency = latency
        self.sleep = asyncio.sleep  # how the latency is waited (a benchmark may time it)
        self.in_flight = self.max_in_flight = 0
        self._ids = itertools.count(1001)
        self._by_ref: dict[str, list[str]] = {}  # external reference -> job ids (a board index)
        if router is not None:  # else serve through handle(), e.g. in httpx.MockTransport
            self.route = router.route(url__startswith=base_url).mock(side_effect=self.handle)

    def fail_next(self, *faults: str) -> None:
        self.faults.extend(faults)

    def live(self) -> list[dict[str, Any]]:
        return [job for job in self.jobs.values() if job["status"] == "open"]

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency:
                await self.sleep(self.latency)
            return self._answer(request)
        finally:
            self.in_flight -= 1

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.calls.append((request.method, request.url.path))
        fault = self.faults.popleft() if self.faults else None
        if fault == "connect":
            raise httpx.ConnectError("connection refused", request=request)
        if fault and fault[0].isdigit():
            status, _, wait = fault.partition(":")
            headers = {"Retry-After": wait} if wait else {}
            return httpx.Response(
                int(status), headers=headers, json={"error": f"fake board says {status}"}
            )
        response = self._process(request)
        if fault == "timeout-after":
            raise httpx.ReadTimeout("read timed out", request=request)
        if fault == "drop":
            raise httpx.RemoteProtocolError("server disconnected", request=request)
        if fault == "malformed":
            return httpx.Response(response.status_code, json={})
        return response

    def _process(self, request: httpx.Request) -> httpx.Response:
        parts = request.url.path.strip("/").split("/")  # v1/jobs[/id[/refresh]]
        if request.method == "GET":
            ref = request.url.params.get("external_ref", "")
            found = [self.jobs[i] for i in self._by_ref.get(ref, [])]
            return httpx.Response(200, json={"jobs": found})
        if request.method == "POST" and len(parts) == 2:
            body = json.loads(request.content)
            ref = body["external_ref"]
            if any(self.jobs[i]["status"] == "open" for i in self._by_ref.get(ref, [])):
                return httpx.Response(409, json={"error": "duplicate external_ref"})
            job_id = str(next(self._ids))
            self.jobs[job_id] = {
                "id": job_id,
                "status": "open",
                "refreshed": 0,
                "url": f"{BASE_URL}/jobs/{job_id}",
                **body,
            }
            self._by_ref.setdefault(ref, []).append(job_id)
            return httpx.Response(201, json=self.jobs[job_id])
        job = self.jobs.get(parts[2]) if len(parts) > 2 else None
        if job is None:
            return httpx.Response(404, json={"error": "no such job"})
        if request.method == "PUT":
            job.update(json.loads(request.content))
        elif request.method == "POST":
            job["refreshed"] += 1
        elif request.method == "DELETE":
            job["status"] = "closed"
            return httpx.Response(204)
        return httpx.Response(200, json=job)


class FakeSettings(BoardSettings):
    api_key_env: str | None = None


class FakeBoardAdapter(ApiAdapter[FakeSettings]):
    """Creates with POST, finds by external reference, updates with PUT, closes with DELETE."""

    name = "fakeboard"
    kind = "api"
    settings_model: ClassVar[type[BoardSettings]] = FakeSettings
    rules = BoardRules(title_max=120)
    refresh_policy = RefreshPolicy(every=timedelta(days=7), max_refreshes=2)
    default_base_url = BASE_URL
    concurrency = 4

    def to_payload(self, posting: Posting) -> dict[str, Any]:
        return {"title": posting.title, "summary": posting.summary, "apply_url": posting.apply.url}

    def _headers(self, key: str | None = None) -> dict[str, str]:
        headers = {"Idempotency-Key": key} if key else {}
        if self.settings.api_key_env:
            headers["Authorization"] = f"Bearer {self.secret('api_key')}"
        return headers

    def _receipt(self, response: httpx.Response, ref: str, known: Receipt | None = None) -> Receipt:
        """The job the answer names; an answer without one is a clear, typed error (the
        board may still have made the job: the engine looks it up)."""
        try:
            data = response.json()
        except ValueError:
            data = None
        job_id = data.get("id") if isinstance(data, dict) else None
        if not job_id:
            if known is None:
                raise OutcomeUnknown(self.name, "the board's answer names no job id")
            return known
        return Receipt(self.name, ref, board_id=str(job_id), url=data.get("url"))

    async def publish(self, posting: Posting, ref: str, *, key: str | None = None) -> Receipt:
        body = {**self.to_payload(posting), "external_ref": ref}
        response = await self.client.post(
            f"{self.base_url}/v1/jobs", json=body, headers=self._headers(key)
        )
        self.raise_for_status(response)
        return self._receipt(response, ref)

    async def update(
        self, posting: Posting, receipt: Receipt, *, key: str | None = None
    ) -> Receipt:
        response = await self.client.put(
            f"{self.base_url}/v1/jobs/{receipt.board_id}",
            json=self.to_payload(posting),
            headers=self._headers(key),
        )
        self.raise_for_status(response)
        return self._receipt(response, receipt.external_ref, receipt)

    async def refresh(
        self, posting: Posting, receipt: Receipt, *, key: str | None = None
    ) -> Receipt:
        response = await self.client.post(
            f"{self.base_url}/v1/jobs/{receipt.board_id}/refresh", headers=self._headers(key)
        )
        self.raise_for_status(response)
        return self._receipt(response, receipt.external_ref, receipt)

    async def withdraw(self, receipt: Receipt, *, key: str | None = None) -> None:
        response = await self.client.delete(
            f"{self.base_url}/v1/jobs/{receipt.board_id}", headers=self._headers(key)
        )
        self.raise_for_status(response, missing_ok=True)

    async def lookup(self, ref: str) -> Receipt | None:
        response = await self.client.get(
            f"{self.base_url}/v1/jobs", params={"external_ref": ref}, headers=self._headers()
        )
        self.raise_for_status(response)
        jobs = [j for j in response.json()["jobs"] if j["status"] == "open"]
        return Receipt(self.name, ref, board_id=jobs[0]["id"], url=jobs[0]["url"]) if jobs else None
