"""A real HTTP job board on 127.0.0.1 for tests that cross process boundaries (SIGKILL,
racing ``jobpub sync`` processes): it speaks the fake board's API and the webhook, records
every request, and injects the faults real boards have.

Shapes:

* fake board: ``POST /v1/jobs`` create, ``GET /v1/jobs?external_ref=`` find,
  ``PUT /v1/jobs/<id>`` update, ``POST /v1/jobs/<id>/refresh``, ``DELETE /v1/jobs/<id>``.
  With ``unique_refs`` (the default) a second open job with the same external reference is
  refused with 409, as many boards do; without it, a double create shows as two open jobs.
* webhook: ``POST /hook``, the JSON body ``{"action", "ref", "posting"?}``. Deliveries are
  deduplicated by ``Idempotency-Key``, as the README tells receivers to: a key seen before
  gets the first answer again and changes nothing.

Faults (``faults``: a probability per request, drawn from a seeded generator, or ``script``:
the next requests' faults in order):

* ``429``    answered 429 with ``Retry-After`` (nothing stored)
* ``503``    answered 503 (nothing stored)
* ``hold``   stored, then the answer is held past the client's timeout
* ``reset``  stored, then the connection is closed without an answer

Nothing here leaves the machine: the server binds 127.0.0.1 on a free port.
"""

from __future__ import annotations

import itertools
import json
import random
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

FAULTS = ("429", "503", "hold", "reset")


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


class BoardServer:
    def __init__(self, *, faults: float = 0.0, seed: int = 0, unique_refs: bool = True,
                 retry_after: int = 1, hold_seconds: float = 3.0) -> None:
        self.lock = threading.Lock()
        self.jobs: dict[str, dict[str, Any]] = {}
        self.receivers: dict[str, Receiver] = {}
        self.answers: dict[str, tuple[int, dict[str, Any]]] = {}  # webhook key -> answer
        self.requests: list[Request] = []
        self.script: deque[str | None] = deque()
        self.fault_rate, self.random = faults, random.Random(seed)
        self.unique_refs, self.retry_after, self.hold_seconds = \
            unique_refs, retry_after, hold_seconds
        self.stored = threading.Event()  # set whenever something is stored
        self.duplicates: list[tuple[str, str, list[tuple[str, str]]]] = []  # the same change
        # applied again under another key: (ref, key, what was applied before)
        self._ids = itertools.count(1001)
        self._stopping = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
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

    def close(self) -> None:
        self._stopping.set()
        self.server.shutdown()
        self.server.server_close()

    # -- faults --------------------------------------------------------------------------
    def _fault(self) -> str | None:
        with self.lock:
            if self.script:
                return self.script.popleft()
            if self.fault_rate and self.random.random() < self.fault_rate:
                return self.random.choice(FAULTS)
            return None

    # -- the board -----------------------------------------------------------------------
    def _process(self, method: str, path: str, query: dict[str, list[str]],
                 body: dict[str, Any] | None, key: str | None) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        with self.lock:
            if path == "/hook":
                return self._hook(body or {}, key)
            if method == "GET" and parts == ["v1", "jobs"]:
                ref = query.get("external_ref", [""])[0]
                return 200, {"jobs": [j for j in self.jobs.values()
                                      if j["external_ref"] == ref]}
            if method == "POST" and parts == ["v1", "jobs"]:
                assert body is not None
                ref = body["external_ref"]
                if self.unique_refs and any(j["status"] == "open" and j["external_ref"] == ref
                                            for j in self.jobs.values()):
                    return 409, {"error": "duplicate external_ref"}
                job_id = str(next(self._ids))
                self.jobs[job_id] = {"id": job_id, "status": "open", "refreshed": 0,
                                     "url": f"{self.url}/jobs/{job_id}", **body}
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

    def _hook(self, body: dict[str, Any], key: str | None) -> tuple[int, Any]:
        if key is None or not isinstance(body.get("ref"), str):
            return 400, {"error": "Idempotency-Key and a body with ref are required"}
        if key in self.answers:
            return self.answers[key]  # a repeated delivery: the first answer, no change
        ref = str(body.get("ref"))
        receiver = self.receivers.setdefault(ref, Receiver())
        action = body.get("action")
        if receiver.applied and receiver.open == (action != "withdraw") and \
                receiver.posting == body.get("posting", receiver.posting):
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

            def _send(self, status: int, body: Any, headers: dict[str, str] | None = None
                      ) -> None:
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
                body = json.loads(raw) if raw else None
                key = self.headers.get("Idempotency-Key")
                fault = board._fault()
                with board.lock:
                    board.requests.append(Request(self.command, url.path, key, fault, body))
                if fault == "429":
                    self._send(429, {"error": "slow down"},
                               {"Retry-After": str(board.retry_after)})
                    return
                if fault == "503":
                    self._send(503, {"error": "try again"})
                    return
                status, answer = board._process(self.command, url.path, parse_qs(url.query),
                                                body, key)
                board.stored.set()
                if fault == "hold":  # stored; the answer comes after the client gave up
                    board._stopping.wait(board.hold_seconds)
                elif fault == "reset":  # stored; the connection drops without an answer
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    self.close_connection = True
                    self.connection.close()
                    return
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
