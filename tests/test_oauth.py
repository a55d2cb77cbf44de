"""OAuth 2 client credentials: one token while it is valid, fetched once for concurrent
calls, refreshed once on a 401, never shown (respx routes asserted; the fake clock)."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from publisher.errors import BoardAuthError, BoardUnavailable
from publisher.oauth import ClientCredentials
from publisher.redact import redact
from tests.engine.world import FakeClock
from tests.factories import NOW

TOKEN_URL = "https://auth.example.test/oauth/v2/accessToken"
API = "https://api.example.test/jobs"


def _helper(clock: FakeClock) -> ClientCredentials:
    return ClientCredentials("linkedin", TOKEN_URL, "client-1", "s3cret-value-123", now=clock)


async def test_the_token_is_reused_until_shortly_before_it_expires(http: respx.MockRouter) -> None:
    clock = FakeClock(NOW)
    tokens = iter(["token-aaaaaa", "token-bbbbbb"])
    route = http.post(TOKEN_URL).mock(
        side_effect=lambda request: httpx.Response(
            200, json={"access_token": next(tokens), "expires_in": 1800}
        )
    )
    oauth = _helper(clock)
    async with httpx.AsyncClient() as client:
        assert await oauth.token(client) == "token-aaaaaa"
        clock.advance(seconds=1700)  # 100 s left: still valid past the 60 s margin
        assert await oauth.token(client) == "token-aaaaaa"
        clock.advance(seconds=50)  # 50 s left: fetched again
        assert await oauth.token(client) == "token-bbbbbb"
    assert route.call_count == 2
    form = parse_qs(route.calls[0].request.content.decode())
    assert form == {
        "grant_type": ["client_credentials"],
        "client_id": ["client-1"],
        "client_secret": ["s3cret-value-123"],
    }


async def test_concurrent_calls_fetch_one_token(http: respx.MockRouter) -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.01)
        return httpx.Response(200, json={"access_token": "token-shared", "expires_in": 1800})

    route = http.post(TOKEN_URL).mock(side_effect=slow)
    oauth = _helper(FakeClock(NOW))
    async with httpx.AsyncClient() as client:
        found = await asyncio.gather(*(oauth.token(client) for _ in range(10)))
    assert found == ["token-shared"] * 10 and route.call_count == 1


async def test_a_401_refreshes_once_then_is_an_answer(http: respx.MockRouter) -> None:
    tokens = iter(["token-old-1", "token-new-2", "token-new-3"])
    http.post(TOKEN_URL).mock(
        side_effect=lambda request: httpx.Response(
            200, json={"access_token": next(tokens), "expires_in": 1800}
        )
    )
    api = http.get(API).mock(
        side_effect=[
            httpx.Response(401, json={"message": "token expired"}),
            httpx.Response(200, json={}),
            httpx.Response(401),
            httpx.Response(401),
        ]
    )
    oauth = _helper(FakeClock(NOW))
    async with httpx.AsyncClient() as client:
        assert (await client.get(API, auth=oauth)).status_code == 200
        assert [c.request.headers["Authorization"] for c in api.calls] == [
            "Bearer token-old-1",
            "Bearer token-new-2",
        ]
        assert (await client.get(API, auth=oauth)).status_code == 401
    assert api.call_count == 4 and oauth.fetches == 3  # one refresh per call, not a loop


async def test_token_endpoint_failures_are_typed_and_never_show_secrets(
    http: respx.MockRouter,
) -> None:
    oauth = _helper(FakeClock(NOW))
    route = http.post(TOKEN_URL).mock(
        side_effect=[
            httpx.Response(
                401, json={"error": "invalid_client", "echo": "client_secret=s3cret-value-123"}
            ),
            httpx.Response(503),
            httpx.Response(200, json={"token_type": "bearer"}),
        ]
    )
    async with httpx.AsyncClient() as client:
        with pytest.raises(BoardAuthError) as refused:
            await oauth.token(client)
        assert str(refused.value) == (
            "linkedin (HTTP 401): no token from the token endpoint (HTTP 401: invalid_client)"
        )
        with pytest.raises(BoardUnavailable):
            await oauth.token(client)
        with pytest.raises(BoardAuthError, match="no token"):  # a 200 without a token
            await oauth.token(client)
    assert route.call_count == 3
    assert redact("body echoed s3cret-value-123") == "body echoed [redacted]"


async def test_a_fetched_token_is_masked_wherever_it_would_be_shown(http: respx.MockRouter) -> None:
    http.post(TOKEN_URL).mock(
        return_value=httpx.Response(
            200, json={"access_token": "AQV-very-secret-token", "expires_in": 1800}
        )
    )
    async with httpx.AsyncClient() as client:
        await _helper(FakeClock(NOW)).token(client)
    assert redact("upstream said AQV-very-secret-token is bad") == "upstream said [redacted] is bad"


async def test_concurrent_calls_through_the_auth_fetch_one_token(http: respx.MockRouter) -> None:
    token = http.post(TOKEN_URL).mock(
        return_value=httpx.Response(200, json={"access_token": "token-shared", "expires_in": 900})
    )
    api = http.get(API).mock(return_value=httpx.Response(200, json={}))
    oauth = _helper(FakeClock(NOW))
    async with httpx.AsyncClient() as client:
        answers = await asyncio.gather(*(client.get(API, auth=oauth) for _ in range(10)))
    assert [a.status_code for a in answers] == [200] * 10 and token.call_count == 1
    assert {c.request.headers["Authorization"] for c in api.calls} == {"Bearer token-shared"}
    form = parse_qs(token.calls[0].request.content.decode())
    assert form["grant_type"] == ["client_credentials"] and form["client_id"] == ["client-1"]
