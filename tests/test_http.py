"""The one HTTP client factory: timeouts, pool limits, connect retries, user agent."""

from __future__ import annotations

import httpx
import respx

from publisher.http import TIMEOUT, Clients, make_client, user_agent


async def test_client_settings_and_user_agent(http: respx.MockRouter) -> None:
    route = http.get("https://board.test/ping").respond(204)
    async with make_client(30) as client:
        assert client.timeout == TIMEOUT == httpx.Timeout(10.0, connect=5.0, pool=30.0)
        pool = client._transport.inner._pool  # type: ignore[attr-defined]
        assert (pool._max_connections, pool._retries) == (30, 2)
        await client.get("https://board.test/ping")
    assert route.calls.last.request.headers["User-Agent"] == user_agent()
    assert user_agent().startswith("jobpub/")


async def test_one_client_per_board_closed_together() -> None:
    clients = Clients()
    first = clients.get("fakeboard", concurrency=8)
    assert clients.get("fakeboard") is first and clients.get("other") is not first
    await clients.aclose()
    assert first.is_closed


async def test_a_transport_replaces_the_network() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"ok": True})

    async with Clients(transport=httpx.MockTransport(answer)) as clients:
        response = await clients.get("b").get("https://b.test/x")
    assert response.json() == {"ok": True} and seen == ["https://b.test/x"]
