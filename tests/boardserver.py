"""The board emulator: real HTTP job boards on 127.0.0.1 for tests that cross process
boundaries (SIGKILL, racing ``jobpub sync`` processes, fleets of ``jobpub run`` workers) and
for trying jobpub by hand. It keeps state, records every request, injects the faults real
boards have, and counts listings per external reference so that "never two" can be asserted.

By hand (prints the config to paste, serves until Ctrl-C; counts at ``/_emulator/counts``)::

    python -m tests.boardserver --port 8900 --faults 0.2 --latency 0.02

Shapes:

* fake board: ``POST /v1/jobs`` create, ``GET /v1/jobs?external_ref=`` find,
  ``PUT /v1/jobs/<id>`` update, ``POST /v1/jobs/<id>/refresh``, ``DELETE /v1/jobs/<id>``.
  With ``unique_refs`` (the default) a second open job with the same external reference is
  refused with 409, as many boards do; without it, a double create shows as two open jobs.
* webhook: ``POST /hook``, the JSON body ``{"action", "ref", "posting"?}``. Deliveries are
  deduplicated by ``Idempotency-Key``, as the README tells receivers to: a key seen before
  gets the first answer again and changes nothing.
* ``ziprecruiter`` under ``/zr``: the Partner Job API double (tests/ziprecruiterdouble.py):
  ``POST /zr/job``, ``PUT`` / ``GET`` / ``DELETE /zr/job/<id>``, Basic auth.
* ``linkedin`` under ``/li``: the Job Posting API double (tests/linkedindouble.py): OAuth
  client credentials at ``/li/oauth/v2/accessToken`` (never faulted), batches at
  ``POST /li/v2/simpleJobPostings`` and tasks at ``GET /li/v2/simpleJobPostingTasks``.
* ``GET /_emulator/counts``: per board, listings open and created per external reference,
  the requests seen and the faults injected (never faulted).

Faults (``faults``: a probability per request spread evenly over the four below, or a
probability per kind; drawn from a seeded generator; or ``script``: the next requests'
faults in order). ``latency`` delays every answer:

* ``429``    answered 429 with ``Retry-After`` (nothing stored)
* ``503``    answered 503 (nothing stored)
* ``hold``   stored, then the answer is held past the client's timeout
* ``reset``  stored, then the connection is closed without an answer
* ``slow``   stored, answered after ``slow_seconds`` (within the client's timeout)

Nothing here leaves the machine: the server binds 127.0.0.1 on a free port.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import socket
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx

from tests.linkedindouble import LinkedInDouble
from tests.ziprecruiterdouble import ZipRecruiterDouble

FAULTS = ("429", "503", "hold", "reset")
DOUBLES = {"/zr/": "ziprecruiter", "/li/": "linkedin"}


@dataclass
class Request:
    method: str
    path: str
    key: str | None
    fault: str | None
    body: dict[str, Any] | None = None


@dataclass
class Receiver:
    """What a webhook receiver keeps for one reference: its posting and the keys applied."""

    open: bool = False
    posting: dict[str, Any] | None = None
    applied: list[tuple[str, str]] = field(default_factory=list)  # (action, key)


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client killed mid-request (SIGKILL is the point of these tests): not news."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class BoardServer:
    def __init__(
        self,
        *,
        faults: float | dict[str, float] = 0.0,
        seed: int = 0,
        unique_refs: bool = True,
        retry_after: int = 1,
        hold_seconds: float = 3.0,
        latency: float = 0.0,
        slow_seconds: float = 0.5,
        port: int = 0,
    ) -> None:
        self.lock = threading.Lock()
        self.ziprecruiter, self.linkedin = ZipRecruiterDouble(), LinkedInDouble()
        self.injected: Counter[str] = Counter()
        self.latency, self.slow_seconds = latency, slow_seconds
        self.jobs: dict[str, dict[str, Any]] = {}
        self.receivers: dict[str, Receiver] = {}
        self.answers: dict[str, tuple[int, dict[str, Any]]] = {}  # webhook key -> answer
        self.requests: list[Request] = []
        self.script: deque[str | None] = deque()
        self.fault_rates = (
            faults if isinstance(faults, dict) else dict.fromkeys(FAULTS, faults / len(FAULTS))
        )
        self.random = random.Random(seed)
        self.unique_refs, self.retry_after, self.hold_seconds = (
            unique_refs,
            retry_after,
            hold_seconds,
        )
        self.stored = threading.Event()  # set whenever something is stored
        self.duplicates: list[tuple[str, str, list[tuple[str, str]]]] = []  # the same change
        # applied again under another key: (ref, key, what was applied before)
        self._ids = itertools.count(1001)
        self._stopping = threading.Event()
        self.server = _Server(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    # -- views ---------------------------------------------------------------------------
    def open_jobs(self) -> dict[str, list[dict[str, Any]]]:
        """External reference -> the open jobs with it (more than one is a duplicate)."""
        with self.lock:
            found: dict[str, list[dict[str, Any]]] = {}
            for job in self.jobs.values():
                if job["status"] == "open":
                    found.setdefault(job["external_ref"], []).append(job)
            return found

    def creates(self) -> int:
        with self.lock:
            return len(self.jobs)

    def counts(self) -> dict[str, Any]:
        """Per board: open listings and creates per external reference (more than one of
        either is a duplicate); the requests seen and the faults injected."""
        with self.lock:
            hooks = {ref: r for ref, r in self.receivers.items() if r.applied}
            return {
                "ziprecruiter": {
                    "open": self.ziprecruiter.open_refs(),
                    "created": dict(Counter(self.ziprecruiter.creates)),
                },
                "linkedin": {"open": self.linkedin.open_refs(), "created": self.linkedin.created()},
                "webhook": {
                    "open": {ref: 1 for ref, r in hooks.items() if r.open},
                    "created": {
                        ref: sum(1 for a, _ in r.applied if a == "publish")
                        for ref, r in hooks.items()
                    },
                    "duplicates": len(self.duplicates),
                    "duplicated": [
                        f"{ref} under {key} after {before}"
                        for ref, key, before in self.duplicates[:20]
                    ],
                },
                "requests": len(self.requests),
                "faults": dict(self.injected),
            }

    def env(self) -> dict[str, str]:
        """The credentials the emulated boards expect, as environment variables."""
        return {**self.ziprecruiter.env, **self.linkedin.env}

    def config(self) -> str:
        """The jobpub.toml tables that point the emulated boards here."""
        return (
            f'[boards.ziprecruiter]\nbase_url = "{self.url}/zr"\n\n'
            f'[boards.linkedin]\nbase_url = "{self.url}/li"\n'
            f'token_url = "{self.url}/li/oauth/v2/accessToken"\n\n'
            f'[boards.webhook]\nurl = "{self.url}/hook"\n'
        )

    def close(self) -> None:
        self._stopping.set()
        self.server.shutdown()
        self.server.server_close()

    # -- faults --------------------------------------------------------------------------
    def _fault(self) -> str | None:
        with self.lock:
            if self.script:
                return self.script.popleft()
            draw = self.random.random()
            for kind, rate in self.fault_rates.items():
                if draw < rate:
                    self.injected[kind] += 1
                    return kind
                draw -= rate
            return None

    # -- the board -----------------------------------------------------------------------
    def _process(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        body: dict[str, Any] | None,
        key: str | None,
    ) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        with self.lock:
            if path == "/hook":
                return self._hook(body or {}, key)
            if method == "GET" and parts == ["v1", "jobs"]:
                ref = query.get("external_ref", [""])[0]
                return 200, {"jobs": [j for j in self.jobs.values() if j["external_ref"] == ref]}
            if method == "POST" and parts == ["v1", "jobs"]:
                assert body is not None
                ref = body["external_ref"]
                if self.unique_refs and any(
                    j["status"] == "open" and j["external_ref"] == ref for j in self.jobs.values()
                ):
                    return 409, {"error": "duplicate external_ref"}
                job_id = str(next(self._ids))
                self.jobs[job_id] = {
                    "id": job_id,
                    "status": "open",
                    "refreshed": 0,
                    "url": f"{self.url}/jobs/{job_id}",
                    **body,
                }
                return 201, self.jobs[job_id]
            job = self.jobs.get(parts[2]) if len(parts) > 2 else None
            if job is None:
                return 404, {"error": "no such job"}
            if method == "PUT":
                job.update(body or {})
            elif method == "POST":
                job["refreshed"] += 1
            elif method == "DELETE":
                job["status"] = "closed"
                return 204, None
            return 200, job

    def _double(
        self, name: str, method: str, target: str, raw: bytes, headers: dict[str, str]
    ) -> tuple[int, Any]:
        """A request for an API double: ``target`` is the path (with its prefix) and query."""
        double = self.ziprecruiter if name == "ziprecruiter" else self.linkedin
        request = httpx.Request(
            method, f"https://{name}.test{target[3:]}", headers=headers, content=raw
        )
        with self.lock:
            answer = asyncio.run(double.handle(request))
        return answer.status_code, answer.json() if answer.content else None

    def _hook(self, body: dict[str, Any], key: str | None) -> tuple[int, Any]:
        if key is None or not isinstance(body.get("ref"), str):
            return 400, {"error": "Idempotency-Key and a body with ref are required"}
        if key in self.answers:
            return self.answers[key]  # a repeated delivery: the first answer, no change
        ref = str(body.get("ref"))
        receiver = self.receivers.setdefault(ref, Receiver())
        action = body.get("action")
        if (
            receiver.applied
            and receiver.open == (action != "withdraw")
            and receiver.posting == body.get("posting", receiver.posting)
        ):
            self.duplicates.append((ref, key, list(receiver.applied)))
        if action == "publish":
            receiver.open, receiver.posting = True, body.get("posting")
        elif action == "update":
            receiver.posting = body.get("posting")
        elif action == "withdraw":
            receiver.open = False
        receiver.applied.append((str(action), key))
        answer = (200, {"id": ref, "url": f"{self.url}/careers/{ref}"})
        self.answers[key] = answer
        return answer

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        board = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = b"" if body is None else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    if data:
                        self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client is gone (killed, or timed out)

            def _serve(self) -> None:
                url = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if len(raw) < length:  # the client died mid-request: nothing to answer
                    self.close_connection = True
                    return
                double = next((n for p, n in DOUBLES.items() if url.path.startswith(p)), None)
                body = json.loads(raw) if raw and double is None else None
                key = self.headers.get("Idempotency-Key")
                if url.path == "/_emulator/counts":
                    self._send(200, board.counts())
                    return
                if board.latency:
                    time.sleep(board.latency)
                fault = None if url.path.endswith("/accessToken") else board._fault()
                with board.lock:
                    board.requests.append(Request(self.command, url.path, key, fault, body))
                if fault == "429":
                    self._send(429, {"error": "slow down"}, {"Retry-After": str(board.retry_after)})
                    return
                if fault == "503":
                    self._send(503, {"error": "try again"})
                    return
                if double is not None:
                    status, answer = board._double(
                        double, self.command, self.path, raw, dict(self.headers)
                    )
                else:
                    status, answer = board._process(
                        self.command, url.path, parse_qs(url.query), body, key
                    )
                board.stored.set()
                if fault == "hold":  # stored; the answer comes after the client gave up
                    board._stopping.wait(board.hold_seconds)
                elif fault == "reset":  # stored; the connection drops without an answer
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                    )
                    self.close_connection = True
                    self.connection.close()
                    return
                elif fault == "slow":
                    board._stopping.wait(board.slow_seconds)
                self._send(status, answer)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        return Handler


def wait_until(predicate: Any, seconds: float = 30.0) -> bool:
    """Poll ``predicate`` until it is true (bounded)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return bool(predicate())


def main() -> None:
    parser = argparse.ArgumentParser(description="job board emulator on 127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument(
        "--faults",
        type=float,
        default=0.0,
        help="share of requests faulted (429, 503, hold, reset evenly)",
    )
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per answer")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    board = BoardServer(faults=args.faults, latency=args.latency, seed=args.seed, port=args.port)
    print(f"board emulator at {board.url}; add to jobpub.toml:\n\n{board.config()}")
    print("and set: " + " ".join(f"{k}={v}" for k, v in board.env().items()))
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        board.close()


if __name__ == "__main__":
    main()
