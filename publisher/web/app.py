"""The web app: dashboard, posting page, YAML editor with live validation and per-board
preview, save / schedule / close / reopen, and approval of recruiters' changes. Built on
Starlette + Jinja2 (autoescaping); the posting files stay the source of truth and every check
and action is the CLI's own (``validate``'s rules, ``Engine.expire_now`` / ``reopen``)."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from publisher.config import Config
from publisher.web.approvals import Approvals
from publisher.web.auth import LoginLimiter, Users
from publisher.web.dashboard import Dashboard
from publisher.web.editor import Editor
from publisher.web.login import Login
from publisher.web.project import TOKEN_SESSION, Project

__all__ = ["TOKEN_SESSION", "create_app"]


def create_app(
    config: Config,
    users: Users,
    *,
    secret: str | None = None,
    https_only: bool = False,
    limiter: LoginLimiter | None = None,
) -> Starlette:
    """The ASGI app for the project of ``config`` (``https_only``: the session cookie is
    Secure; so it is whenever ``[web] public_url`` is https). Its pages are in
    :mod:`publisher.web.login`, :mod:`~publisher.web.dashboard`, :mod:`~publisher.web.editor`
    and :mod:`~publisher.web.approvals`; what they share, in :mod:`publisher.web.project`."""
    project = Project(config, users, limiter or LoginLimiter())
    https_only = https_only or (config.web.public_url or "").startswith("https://")
    login, shown, editor, approvals = (
        Login(project),
        Dashboard(project),
        Editor(project),
        Approvals(project),
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        project.close()  # the app's one database engine

    routes = [
        Route("/app.css", shown.asset),
        Route("/app.js", shown.asset),
        Route("/login", login.login, methods=["GET", "POST"]),
        Route("/logout", login.logout, methods=["POST"]),
        Route("/", shown.dashboard),
        Route("/postings/{id}", shown.posting_page),
        Route("/postings/{id}/edit", editor.edit),
        Route("/postings/{id}/validate", editor.validate, methods=["POST"]),
        Route("/postings/{id}/save", editor.save, methods=["POST"]),
        Route("/postings/{id}/schedule", editor.schedule, methods=["POST"]),
        Route("/postings/{id}/close", editor.close_or_reopen, methods=["POST"]),
        Route("/postings/{id}/reopen", editor.close_or_reopen, methods=["POST"]),
        Route("/postings/{id}/preview/{board}", shown.preview),
        Route("/changes/{n:int}", approvals.change_page),
        Route("/changes/{n:int}/{verb:str}", approvals.decide, methods=["POST"]),
    ]
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=secret or secrets.token_urlsafe(32),
                session_cookie="jobpub_session",
                same_site="strict",
                https_only=https_only,
            ),
            Middleware(RequireLogin, signed_in=project.signed_in),
        ],
    )


class RequireLogin(BaseHTTPMiddleware):
    """Every page but the login page needs a session that still stands: its user is still
    in the users file with the session generation it logged in under (logout, removal, a
    new password or role end it), or the token's current generation."""

    def __init__(self, app: Any, signed_in: Any) -> None:
        super().__init__(app)
        self.signed_in = signed_in

    async def dispatch(self, request: Request, call_next: Any) -> Any:
        if request.url.path in ("/login", "/app.css", "/app.js"):
            return await call_next(request)
        if not await asyncio.to_thread(self.signed_in, request):
            if request.session.get("user"):  # a session that has ended: forget it (a visitor's
                request.session.clear()  # own, with its login form's CSRF token, is kept)
            return RedirectResponse("/login", 303)
        return await call_next(request)
