"""The one place HTTP clients are built: timeouts, pool limits, connect retries, user agent;
and :func:`board_call`, which puts any failure of an adapter's call in the error tree.

Keeping httpx behind this module keeps a later move to another client (httpx2) a small change.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from importlib.metadata import PackageNotFoundError, version
from types import TracebackType
from typing import Any, TypeVar

import httpcore
import httpx

from publisher.errors import BoardUnavailable, LeaseLost, OutcomeUnknown, PublisherError

__all__ = [
    "MAX_ANSWER_BYTES",
    "SEND_GUARD",
    "TIMEOUT",
    "Clients",
    "board_call",
    "make_client",
    "user_agent",
]

T = TypeVar("T")
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

TIMEOUT = httpx.Timeout(10.0, connect=5.0, pool=30.0)
MAX_ANSWER_BYTES = 10_000_000
#: Awaited just before each request leaves (set by the engine around a board call): it
#: raises when the worker no longer holds the work the request is for, so a worker paused
#: past its lease sends nothing once it wakes up.
SEND_GUARD: ContextVar[Callable[[], Awaitable[None]] | None] = ContextVar(
    "send_guard", default=None
)


class _Capped(httpx.AsyncByteStream):
    """A response body cut off past ``limit`` bytes (a board answering without end)."""

    def __init__(self, stream: httpx.AsyncByteStream, limit: int) -> None:
        self.stream, self.limit = stream, limit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        seen = 0
        async for chunk in self.stream:
            seen += len(chunk)
            if seen > self.limit:
                raise httpx.RemoteProtocolError(
                    f"the answer is larger than {self.limit:,} bytes: cut off"
                )
            yield chunk

    async def aclose(self) -> None:
        await self.stream.aclose()


class _GuardedStream(httpcore.AsyncNetworkStream):
    """A connection whose every write first passes :data:`SEND_GUARD`: the last check stands
    right before the bytes leave, with no await between (a worker paused while connecting,
    or waiting for a connection, finds out it lost its work before it sends)."""

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self.inner = inner

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        guard = SEND_GUARD.get()
        if guard is not None:
            await guard()
        await self.inner.write(buffer, timeout)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self.inner.read(max_bytes, timeout)

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        return _GuardedStream(await self.inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self.inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        return _GuardedStream(
            await self.inner.connect_tcp(host, port, timeout, local_address, socket_options)
        )

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.AsyncNetworkStream:
        return _GuardedStream(await self.inner.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def _network(retries: int, limits: httpx.Limits) -> httpx.AsyncHTTPTransport:
    """httpx's transport, its connections guarded at each write (see _GuardedStream)."""
    transport = httpx.AsyncHTTPTransport(retries=retries, limits=limits)
    pool = getattr(transport, "_pool", None)
    if pool is not None and hasattr(pool, "_network_backend"):
        pool._network_backend = _GuardedBackend(pool._network_backend)
    return transport


class _Guarded(httpx.AsyncBaseTransport):
    """The network, with :data:`SEND_GUARD` asked before each request and answers capped."""

    def __init__(self, inner: httpx.AsyncBaseTransport, max_bytes: int) -> None:
        self.inner, self.max_bytes = inner, max_bytes

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        guard = SEND_GUARD.get()
        if guard is not None:
            await guard()
        response = await self.inner.handle_async_request(request)
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) <= self.max_bytes:
            return response  # framed by its length: the body cannot run past it
        if length.isdigit():
            await response.aclose()
            raise httpx.RemoteProtocolError(
                f"the answer is larger than {self.max_bytes:,} bytes: cut off"
            )
        stream = response.stream
        assert isinstance(stream, httpx.AsyncByteStream)
        response.stream = _Capped(stream, self.max_bytes)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def user_agent() -> str:
    try:
        return f"jobpub/{version('jobpub')}"
    except PackageNotFoundError:  # running from a source tree
        return "jobpub/dev"


def make_client(
    max_connections: int = 20,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: float | None = None,
    max_bytes: int = MAX_ANSWER_BYTES,
) -> httpx.AsyncClient:
    """A client for one board: its pool is larger than the board's concurrency limit, and
    the transport retries only connect-phase errors (nothing was sent, safe for POST).
    ``transport`` replaces the network (in-process fake boards); either way each request
    passes :data:`SEND_GUARD` first and its answer is cut off past ``max_bytes``."""
    # Limits belong to the transport: AsyncClient ignores its own once given a transport.
    limits = httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=30,
    )
    return httpx.AsyncClient(
        timeout=TIMEOUT if timeout is None else httpx.Timeout(timeout, connect=5.0, pool=30.0),
        transport=_Guarded(transport or _network(2, limits), max_bytes),
        headers={"User-Agent": user_agent()},
        follow_redirects=False,
    )


class Clients:
    """One client per board, made on first use and closed together."""

    def __init__(
        self, transport: httpx.AsyncBaseTransport | None = None, max_bytes: int = MAX_ANSWER_BYTES
    ) -> None:
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._transport = transport
        self.max_bytes = max_bytes

    def get(
        self, board: str, concurrency: int = 4, timeout: float | None = None
    ) -> httpx.AsyncClient:
        if board not in self._clients:
            self._clients[board] = make_client(
                max(10, concurrency * 2), self._transport, timeout, self.max_bytes
            )
        return self._clients[board]

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()

    async def __aenter__(self) -> Clients:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


def _classify(exc: Exception, board: str) -> Exception:
    """httpx errors as the error tree: nothing sent -> retry; maybe processed -> unknown."""
    if isinstance(exc, NOT_SENT):
        return BoardUnavailable(board, f"{type(exc).__name__}: nothing was sent")
    if isinstance(exc, httpx.HTTPError):
        return OutcomeUnknown(board, f"{type(exc).__name__}: the board may have processed it")
    return exc


async def board_call(board: str, call: Awaitable[T], what: str, deadline: float | None = None) -> T:
    """An adapter's call with every failure in the error tree: httpx errors classified, and
    an unexpected exception an unknown outcome (``what`` says what the board may have done).
    ``deadline``: seconds the whole call may take (connect, send, every read of a dripping
    answer); past it, the outcome is unknown."""
    try:
        async with asyncio.timeout(deadline):
            return await call
    except TimeoutError:
        raise OutcomeUnknown(
            board,
            f"no whole answer within the call's {deadline:g} s "
            "deadline; the board may have processed it",
        ) from None
    except httpx.HTTPError as exc:
        raise _classify(exc, board) from None
    except (PublisherError, LeaseLost):
        raise
    except Exception as exc:
        raise OutcomeUnknown(
            board, f"{type(exc).__name__} in the {board} adapter; {what}"
        ) from None
