"""Signing in and out of the web app: a login form (CSRF-protected, throttled per
client address and per name) and a log-out that ends every session of the user."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse

from publisher.web.auth import client_address, end_sessions
from publisher.web.project import Project, csrf_ok

__all__ = ["Login"]


class Login:
    """The login and log-out pages."""

    def __init__(self, project: Project) -> None:
        self.p = project

    async def login(self, request: Request) -> Any:
        if request.method == "GET":
            return self.p.render(request, "login.html", token_only=not self.p.users.path)
        client = client_address(
            request.client.host if request.client else None,
            request.headers.get("x-forwarded-for"),
            self.p.config.web.trusted_proxies,
        )
        form = await request.form()
        if not csrf_ok(request, str(form.get("csrf", ""))):
            return PlainTextResponse("the form expired: reload the page", 403)
        if not self.p.limiter.allowed(client):
            return self.p.render(
                request,
                "login.html",
                429,
                error="too many attempts: wait a minute",
                token_only=not self.p.users.path,
            )
        name = str(form.get("name", ""))
        await asyncio.sleep(self.p.limiter.delay(name))  # slower after each failure for this name
        user = self.p.users.check(name, str(form.get("password", "")), self.p.token_session())
        if user is None:
            self.p.limiter.failed(client, name)
            return self.p.render(
                request,
                "login.html",
                401,
                error="wrong name or password",
                token_only=not self.p.users.path,
            )
        self.p.limiter.succeeded(name)
        request.session.clear()
        request.session.update(
            user=user.name, role=user.role, session=user.session, csrf=secrets.token_urlsafe(24)
        )
        return RedirectResponse("/", 303)

    async def logout(self, request: Request) -> Any:
        """Log out: every session of this user ends (on every device, across restarts)."""
        form = await request.form()
        if csrf_ok(request, str(form.get("csrf", ""))):
            marker = str(request.session.get("session", ""))
            if marker.startswith("t"):
                self.p.end_token_sessions()
            elif (
                self.p.users.path is not None
                and self.p.users.get(str(request.session["user"])).role
            ):
                end_sessions(self.p.users.path, str(request.session["user"]))
            request.session.clear()
        return RedirectResponse("/login", 303)
