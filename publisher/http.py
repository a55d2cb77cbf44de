"""The one place HTTP clients are built: timeouts, pool limits, connect retries, user agent.

Keeping httpx behind this module keeps a later move to another client (httpx2) a small change.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from types import TracebackType

import httpx

__all__ = ["TIMEOUT", "Clients", "make_client", "user_agent"]

TIMEOUT = httpx.Timeout(10.0, connect=5.0, pool=30.0)


def user_agent() -> str:
    try:
        return f"jobpub/{version('jobpub')}"
    except PackageNotFoundError:  # running from a source tree
        return "jobpub/dev"


def make_client(max_connections: int = 20,
                transport: httpx.AsyncBaseTransport | None = None,
                timeout: float | None = None) -> httpx.AsyncClient:
    """A client for one board: its pool is larger than the board's concurrency limit, and
    the transport retries only connect-phase errors (nothing was sent, safe for POST).
    ``transport`` replaces the network (in-process fake boards)."""
    # Limits belong to the transport: AsyncClient ignores its own once given a transport.
    limits = httpx.Limits(max_connections=max_connections,
                          max_keepalive_connections=max_connections, keepalive_expiry=30)
    return httpx.AsyncClient(
        timeout=TIMEOUT if timeout is None else httpx.Timeout(timeout, connect=5.0, pool=30.0),
        transport=transport or httpx.AsyncHTTPTransport(retries=2, limits=limits),
        headers={"User-Agent": user_agent()},
        follow_redirects=False,
    )


class Clients:
    """One client per board, made on first use and closed together."""

    def __init__(self, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._transport = transport

    def get(self, board: str, concurrency: int = 4,
            timeout: float | None = None) -> httpx.AsyncClient:
        if board not in self._clients:
            self._clients[board] = make_client(max(10, concurrency * 2), self._transport,
                                               timeout)
        return self._clients[board]

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()

    async def __aenter__(self) -> Clients:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()
