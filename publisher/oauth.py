"""OAuth 2 client credentials (RFC 6749 §4.4) for boards whose APIs take a bearer token
(such tokens often live only 30 minutes): an ``httpx.Auth`` every such adapter passes with
its calls (``auth=self.auth``).

* the token is reused until ``margin`` before it expires, then fetched again;
* when many calls need a token at once, it is fetched once (the others wait for it);
* a 401 on a call refreshes the token once and repeats the call once; a second 401 is an
  auth error;
* the token and the client secret never reach logs, errors or the ledger (both are
  registered with :mod:`publisher.redact`); the token URL is a setting like every URL.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Generator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from publisher import clock
from publisher.errors import BoardAuthError, BoardUnavailable
from publisher.redact import remember

__all__ = ["ClientCredentials"]


@dataclass
class _Token:
    value: str
    expires_at: datetime


class ClientCredentials(httpx.Auth):
    """A client-credentials token for one board, fetched when needed and shared by every
    call that passes it as ``auth``: the token request goes out through the same client."""

    def __init__(
        self,
        board: str,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        scope: str | None = None,
        margin: timedelta = timedelta(seconds=60),
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.board, self.token_url, self.scope, self.margin = board, token_url, scope, margin
        self._client_id, self._secret = client_id, client_secret
        self._now = now or clock.now
        self._token: _Token | None = None
        import asyncio  # (imported here: validate loads this module, never runs it)

        self._lock = asyncio.Lock()
        self.fetches = 0  # token requests made (for tests and diagnostics)
        remember(client_secret)

    @classmethod
    def of(cls, adapter: Any) -> ClientCredentials:
        """The helper for a board adapter, from its ``token_url`` setting and the secrets
        its ``client_id_env`` / ``client_secret_env`` settings name."""
        return cls(
            adapter.name,
            adapter.settings.token_url,
            adapter.secret("client_id"),
            adapter.secret("client_secret"),
            now=adapter.clock,  # the engine's clock, as everything the adapter does
        )

    def _valid(self) -> _Token | None:
        current = self._token
        if current is not None and current.expires_at - self.margin > self._now():
            return current
        return None

    async def token(self, client: httpx.AsyncClient) -> str:
        """A token valid for at least ``margin`` more (fetched once for concurrent calls)."""
        current = self._valid()
        if current is None:
            async with self._lock:
                current = self._valid()
                if current is None:
                    self._token = current = self._parse(await client.send(self._request()))
        return current.value

    def invalidate(self, value: str) -> None:
        """Forget ``value`` (a call said it is no longer valid); a newer one is kept."""
        if self._token is not None and self._token.value == value:
            self._token = None

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        raise RuntimeError("ClientCredentials is for httpx.AsyncClient")

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """The call with an ``Authorization`` header; on a 401, the token is fetched again
        once and the call made once more (its answer, whatever it is, is returned)."""
        for attempt in (1, 2):
            current = self._valid()
            if current is None:
                async with self._lock:  # one fetch for the calls that need one at once
                    current = self._valid()
                    if current is None:
                        answer = yield self._request()
                        await answer.aread()
                        self._token = current = self._parse(answer)
            request.headers["Authorization"] = f"Bearer {current.value}"
            response = yield request
            if response.status_code != 401 or attempt == 2:
                return
            self.invalidate(current.value)

    def _request(self) -> httpx.Request:
        form = {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._secret,
        }
        if self.scope:
            form["scope"] = self.scope
        self.fetches += 1
        return httpx.Request(
            "POST", self.token_url, data=form, headers={"Accept": "application/json"}
        )

    def _parse(self, response: httpx.Response) -> _Token:
        status = response.status_code
        if status == 429 or status >= 500:
            raise BoardUnavailable(self.board, f"token endpoint answered {status}", status)
        try:
            data = response.json()
        except ValueError:
            data = None
        value = data.get("access_token") if isinstance(data, dict) else None
        if status >= 400 or not isinstance(value, str) or not value:
            error = data.get("error", "") if isinstance(data, dict) else ""
            raise BoardAuthError(
                self.board,
                f"no token from the token endpoint (HTTP {status}"
                f"{': ' + str(error) if error else ''})",
                status,
            )
        remember(value)
        try:
            lifetime = float(data.get("expires_in", 3600))
        except (TypeError, ValueError):
            lifetime = 3600.0
        return _Token(value, self._now() + timedelta(seconds=lifetime))
