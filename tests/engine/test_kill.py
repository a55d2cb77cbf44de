"""A real `jobpub sync` process killed (SIGKILL) after the board created the listing and
before the answer reached the ledger: the next sync reconciles it without a duplicate.

The board is a small HTTP server on 127.0.0.1 in this test process (the kill has to cross
a process boundary, so respx cannot serve it); nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import respx

from publisher.config import load_config
from publisher.engine import Engine, SyncResult
from tests.engine.procs import CHILD
from tests.engine.world import World
from tests.factories import NOW, ROOT

TODAY = NOW.date()


class Board:
    """Keeps jobs; a create is stored at once but answered only when ``release`` is set."""

    def __init__(self) -> None:
        self.jobs: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []
        self.created = threading.Event()
        self.release = threading.Event()
        board = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client is gone (killed)

            def do_POST(self) -> None:
                board.calls.append("POST")
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                job = {
                    "id": str(1001 + len(board.jobs)),
                    "status": "open",
                    "url": "http://127.0.0.1/jobs",
                    **body,
                }
                board.jobs[job["id"]] = job
                board.created.set()
                board.release.wait(30)
                self._answer(201, job)

            def do_GET(self) -> None:
                board.calls.append("GET")
                ref = parse_qs(urlparse(self.path).query).get("external_ref", [""])[0]
                self._answer(
                    200, {"jobs": [j for j in board.jobs.values() if j["external_ref"] == ref]}
                )

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()


@pytest.fixture
def local_board(http: respx.MockRouter) -> Iterator[Board]:
    board = Board()
    http.route(host="127.0.0.1").pass_through()  # the loopback board only
    yield board
    board.close()


def test_sigkill_between_board_call_and_ledger_write(world: World, local_board: Board) -> None:
    config = world.config_path.read_text().replace(
        "[boards.fakeboard]\n", f'[boards.fakeboard]\nbase_url = "{local_board.url}"\n'
    )
    world.config_path.write_text(config)
    world.write(publish_at=TODAY - timedelta(days=1), expires_at=TODAY + timedelta(days=30))
    env = {
        **os.environ,
        "JOBPUB_CONFIG": str(world.config_path),
        "PYTHONPATH": str(ROOT),
        "JOBPUB_TEST_NOW": world.clock.now.isoformat(),
    }  # the child's fake clock
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, "sync"],
        env=env,
        cwd=world.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert local_board.created.wait(60), child.stdout.read() if child.stdout else ""
        child.send_signal(signal.SIGKILL)  # the board has it; the ledger never hears
        child.wait(30)
    finally:
        child.kill()
    local_board.release.set()
    assert world.listing().state == "scheduled" and local_board.calls == ["POST"]

    world.clock.advance(seconds=30)
    engine = Engine(load_config(world.config_path), world.ledger, clock=world.clock)
    result = asyncio.run(_sync(engine))
    assert [n for n in result.notes if "took over interrupted work" in n]
    assert local_board.calls == ["POST", "GET"] and len(local_board.jobs) == 1
    listing = world.listing()
    assert (listing.state, listing.board_id) == ("live", "1001")
    assert [(e.action, e.outcome) for e in world.ledger.history("data-analyst")] == [
        ("reconcile", "ok"),
        ("post", "ok"),
    ]


async def _sync(engine: Engine) -> SyncResult:
    try:
        return await engine.sync()
    finally:
        await engine.aclose()
