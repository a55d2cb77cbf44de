"""LinkedIn's asynchronous tasks across real processes: a ``jobpub sync`` SIGKILLed while
LinkedIn holds its batch (before any task id reaches the ledger), and one SIGKILLed in the
middle of a poll. The board is the LinkedIn double served over HTTP on 127.0.0.1 (the kill
crosses a process boundary, so respx cannot serve it); nothing leaves the machine. On
SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import respx

from tests.engine.procs import CHILD
from tests.engine.world import World
from tests.factories import ROOT
from tests.linkedindouble import LinkedInDouble

REF = "jobpub-data-analyst-linkedin"


class Server:
    """The double behind a real HTTP server; ``hold`` names the path of calls that are
    taken (and processed) but answered only once ``release`` is set."""

    def __init__(self) -> None:
        self.double = LinkedInDouble()
        self.hold: str | None = None
        self.holding = threading.Event()
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                request = httpx.Request(
                    self.command,
                    f"https://api.linkedin.com{self.path}",
                    headers=dict(self.headers),
                    content=body,
                )
                response = asyncio.run(server.double.handle(request))
                if server.hold and server.hold in self.path:
                    server.holding.set()
                    server.release.wait(30)
                try:
                    self.send_response(response.status_code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(response.content)))
                    self.end_headers()
                    self.wfile.write(response.content)
                except OSError:
                    pass  # the client was killed

            do_GET = do_POST = _serve

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.http.shutdown()


@pytest.fixture
def server(http: respx.MockRouter, world: World) -> Iterator[Server]:
    made = Server()
    http.route(host="127.0.0.1").pass_through()  # the loopback board only
    config = world.config_path.read_text() + (
        f'\n[boards.linkedin]\nbase_url = "{made.url}"\n'
        f'token_url = "{made.url}/oauth/v2/accessToken"\norganization = "2414183"\n'
    )
    world.config_path.write_text(config)
    world.write(
        boards={"linkedin": {}}, publish_at=date(2026, 11, 26), expires_at=date(2027, 3, 31)
    )
    yield made
    made.close()


def start(world: World, now: datetime) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "JOBPUB_CONFIG": str(world.config_path),
        "PYTHONPATH": str(ROOT),
        "JOBPUB_TEST_NOW": now.isoformat(),
        "LINKEDIN_CLIENT_ID": "client-77",
        "LINKEDIN_CLIENT_SECRET": "linkedin-secret-value-9",
    }
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, "sync"],
        env=env,
        cwd=world.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def run(world: World, now: datetime) -> str:
    out, _ = start(world, now).communicate(timeout=120)
    return out.decode()


def kill_while_held(world: World, server: Server, path: str, now: datetime) -> None:
    server.hold, server.release = path, threading.Event()
    server.holding.clear()
    child = start(world, now)
    try:
        assert server.holding.wait(60), child.stdout.read() if child.stdout else ""
        child.send_signal(signal.SIGKILL)  # LinkedIn has the call; the ledger never hears
        child.wait(30)
    finally:
        child.kill()
        server.hold = None
        server.release.set()


def operations(server: Server) -> list[str]:
    return [e["jobPostingOperationType"] for c in server.double.calls for e in c["elements"]]


def test_sigkill_while_linkedin_holds_the_batch(world: World, server: Server) -> None:
    now = world.clock.now
    kill_while_held(world, server, "/simpleJobPostings", now)
    assert operations(server) == ["CREATE"] and server.double.created() == {REF: 1}
    (work,) = world.ledger.open_work().values()
    assert work.state == "running" and work.task_id is None  # died before the answer
    # Later runs: the dead run's work is taken over; a create of unknown fate is probed
    # with an UPDATE five minutes on, never sent again.
    log = run(world, now + timedelta(minutes=1))
    assert "took over interrupted work" in log, log
    run(world, now + timedelta(minutes=7))
    run(world, now + timedelta(minutes=13))
    assert operations(server) == ["CREATE", "UPDATE"]
    assert world.listing(board="linkedin").state == "live"
    assert server.double.created() == {REF: 1} and server.double.open_refs() == {REF: 1}


def test_sigkill_in_the_middle_of_a_poll(world: World, server: Server) -> None:
    now = world.clock.now
    out = run(world, now)
    (work,) = world.ledger.open_work().values()
    assert work.task_id == "urn:li:simpleJobPostingTask:1-abc", out
    assert world.listing(board="linkedin").state == "pending"
    kill_while_held(world, server, "/simpleJobPostingTasks", now + timedelta(minutes=6))
    (work,) = world.ledger.open_work().values()
    assert work.state == "running" and work.task_id is not None
    run(world, now + timedelta(minutes=7))  # taken over: a poll is a read, made again
    listing = world.listing(board="linkedin")
    assert (listing.state, listing.board_id) == ("live", "urn:li:jobPosting:2")
    assert not listing.reconcile and world.ledger.open_work() == {}
    assert operations(server) == ["CREATE"] and server.double.polls == 2
