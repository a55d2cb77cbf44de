"""Notifications ([notify]) against a real webhook receiver and a real SMTP server, both on
127.0.0.1: a listing that failed for good is announced once, on both channels, without a
secret; it ends when the listing is fixed, and a new failure is a new incident; a board that
refuses jobpub's credentials is one incident; when no channel takes the message it is sent
again next run."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import respx
from aiosmtpd.controller import Controller

from publisher.config import Notify
from tests.engine.world import World

HOOK_TOKEN = "T0KEN-hooks-0f1e2d3c4b"


class Receiver:
    """A Slack-compatible incoming webhook: collects the JSON it is sent."""

    def __init__(self) -> None:
        received: list[dict[str, Any]] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                size = int(self.headers["Content-Length"])
                received.append(json.loads(self.rfile.read(size)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/{HOOK_TOKEN}"

    def texts(self) -> list[str]:
        return [m["text"] for m in self.received]


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content.decode())
        return "250 OK"


@pytest.fixture
def channels(
    world: World, http: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Receiver, Mailbox]]:
    receiver, mailbox = Receiver(), Mailbox()
    with socket.socket() as probe:  # (the controller checks its port by connecting to it)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    smtp = Controller(mailbox, hostname="127.0.0.1", port=port)
    smtp.start()
    http.route(host="127.0.0.1").pass_through()  # the local receiver only
    monkeypatch.setenv("JOBPUB_HOOK_URL", receiver.url)
    world.config = world.config.model_copy(
        update={
            "notify": Notify(
                webhook_url_env="JOBPUB_HOOK_URL",
                smtp_host="127.0.0.1",
                smtp_port=smtp.port,
                smtp_starttls=False,
                email_from="jobpub@example.com",
                email_to=["hr@example.com"],
            )
        }
    )
    yield receiver, mailbox
    smtp.stop()
    receiver.server.shutdown()


async def test_a_failed_listing_is_announced_once_until_it_ends(
    world: World, channels: tuple[Receiver, Mailbox]
) -> None:
    receiver, mailbox = channels
    world.write(publish_at=None)
    world.board.fail_next("400")
    first = await world.sync()
    assert "notified 1 incident(s)" in first.notes
    (text,) = receiver.texts()
    assert text.startswith("jobpub: 1 new incident(s)")
    assert "data-analyst on fakeboard failed and needs a person" in text
    (mail,) = mailbox.messages
    assert "Subject: jobpub: 1 new incident(s)" in mail and "To: hr@example.com" in mail
    assert "data-analyst on fakeboard failed" in mail

    again = await world.sync()
    assert len(receiver.texts()) == 1 and not [n for n in again.notes if "notif" in n]

    fixed = await world.sync(retry_failed=True)
    assert [d.state for d in fixed.outcomes] == ["done"]
    world.write(publish_at=None, title="Senior Data Analyst")
    world.board.fail_next("422")
    await world.sync()  # a new failure after the first ended: a new incident
    assert len(receiver.texts()) == 2 and len(mailbox.messages) == 2
    assert all(HOOK_TOKEN not in t for t in [*receiver.texts(), *mailbox.messages])


async def test_a_board_refusing_credentials_is_one_incident(
    world: World, channels: tuple[Receiver, Mailbox]
) -> None:
    receiver, _ = channels
    for posting in ("data-analyst", "ux-writer", "store-manager"):
        world.write(posting, publish_at=None)
    world.board.fail_next("401")
    await world.sync()
    (text,) = receiver.texts()
    assert "fakeboard refuses jobpub's credentials" in text
    assert "1 new incident(s)" in text and "failed and needs a person" not in text


async def test_a_message_no_channel_took_is_sent_next_run(
    world: World, channels: tuple[Receiver, Mailbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver, mailbox = channels
    assert world.config.notify.webhook_url_env
    world.config = world.config.model_copy(
        update={"notify": world.config.notify.model_copy(update={"smtp_host": None})}
    )  # the webhook alone
    monkeypatch.setenv("JOBPUB_HOOK_URL", receiver.url.replace("127.0.0.1:", "127.0.0.1:1"))
    world.write(publish_at=None)
    world.board.fail_next("400")
    down = await world.sync()
    (note,) = [n for n in down.notes if "notify" in n]
    assert note.startswith("could not notify") and HOOK_TOKEN not in note
    monkeypatch.setenv("JOBPUB_HOOK_URL", receiver.url)
    up = await world.sync()
    assert "notified 1 incident(s)" in up.notes and len(receiver.texts()) == 1
    assert mailbox.messages == []


async def test_work_stuck_past_its_lease_is_announced_when_taken_over(
    world: World, channels: tuple[Receiver, Mailbox]
) -> None:
    receiver, _ = channels
    world.write(publish_at=None)
    await world.crash(owner="worker-7.example.com:4242")  # another host: alive, as far as known
    early = await world.sync()  # within its lease: left alone, nothing to tell
    assert early.outcomes == [] and receiver.texts() == []
    world.clock.advance(minutes=6)
    late = await world.sync()
    assert [(d.action, d.state) for d in late.outcomes] == [("post", "done")]
    (text,) = receiver.texts()
    assert (
        "post of data-analyst on fakeboard was stuck past its lease (held by "
        "worker-7.example.com:4242) and was taken over" in text
    )
    await world.sync()
    assert len(receiver.texts()) == 1  # one incident, told once; it has ended
