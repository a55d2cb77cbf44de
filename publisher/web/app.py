"""The web app: dashboard, posting page, YAML editor with live validation and per-board
preview, save / schedule / close / reopen, and approval of recruiters' changes. Built on
Starlette + Jinja2 (autoescaping); the posting files stay the source of truth and every check
and action is the CLI's own (``validate``'s rules, ``Engine.expire_now`` / ``reopen``)."""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import functools
import hashlib
import io
import secrets
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from ruamel.yaml import YAML
from sqlalchemy import insert, select, update
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route

from publisher.config import Config
from publisher.database import reading
from publisher.errors import PublisherError
from publisher.tables import engine_state
from publisher.views import local, status_rows
from publisher.web import files
from publisher.web.auth import LoginLimiter, User, Users, client_address, end_sessions
from publisher.web.changes import Change, Changes

__all__ = ["create_app"]

_env = Environment(
    loader=PackageLoader("publisher.web", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def create_app(
    config: Config,
    users: Users,
    *,
    secret: str | None = None,
    https_only: bool = False,
    limiter: LoginLimiter | None = None,
) -> Starlette:
    """The ASGI app for the project of ``config`` (``https_only``: the session cookie is
    Secure; so it is whenever ``[web] public_url`` is https)."""
    postings = Path(config.postings_dir)
    limiter = limiter or LoginLimiter()
    https_only = https_only or (config.web.public_url or "").startswith("https://")

    def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = _env.get_template(name).render(
            user=request.session.get("user"),
            role=request.session.get("role"),
            notice=request.session.pop("notice", None),
            csrf=_csrf(request),
            **context,
        )
        return HTMLResponse(html, status_code=status)

    @functools.cache
    def database() -> Any:
        """The app's one database engine (its connection pool), disposed at shutdown."""
        from publisher.config import ledger_url
        from publisher.database import connect

        return connect(ledger_url(config))

    def engine(actor: str | None = None) -> Any:
        """The engine on the project's ledger; what it records is by ``actor``."""
        from publisher.engine import Engine
        from publisher.ledger import Ledger

        return Engine(config, Ledger(database(), actor=actor))

    @functools.cache
    def changes() -> Changes:
        return Changes(database())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        if database.cache_info().currsize:
            database().dispose()

    def user(request: Request) -> User:
        """The signed-in user: the session's role, the users file's e-mail."""
        name = str(request.session["user"])
        return User(name, str(request.session.get("role", "")), users.get(name).email)

    def waits(request: Request) -> bool:
        """Whether what this user changes waits for an approver."""
        return config.web.require_approval and request.session.get("role") != "approver"

    def publish(request: Request, posting_id: str, text: str, author: User, message: str) -> None:
        """Write the posting file (and commit it, with ``[web] git_commit``)."""
        path = _file(posting_id)
        files.write(path, text)
        if config.web.git_commit:
            trouble = files.commit(path, author.author, message)
            if trouble:
                request.session["notice"] = trouble

    def propose(
        request: Request, posting_id: str, kind: str, text: str = "", base: str = ""
    ) -> Response:
        number = changes().propose(posting_id, kind, user(request).name, text, base)
        request.session["notice"] = "your change waits for an approver"
        return RedirectResponse(f"/changes/{number}", 303)

    async def login(request: Request) -> Any:
        if request.method == "GET":
            return render(request, "login.html", token_only=not users.path)
        client = client_address(
            request.client.host if request.client else None,
            request.headers.get("x-forwarded-for"),
            config.web.trusted_proxies,
        )
        form = await request.form()
        if not _csrf_ok(request, str(form.get("csrf", ""))):
            return PlainTextResponse("the form expired: reload the page", 403)
        if not limiter.allowed(client):
            return render(
                request,
                "login.html",
                429,
                error="too many attempts: wait a minute",
                token_only=not users.path,
            )
        name = str(form.get("name", ""))
        await asyncio.sleep(limiter.delay(name))  # slower after each failure for this name
        user = users.check(name, str(form.get("password", "")), token_session())
        if user is None:
            limiter.failed(client, name)
            return render(
                request,
                "login.html",
                401,
                error="wrong name or password",
                token_only=not users.path,
            )
        limiter.succeeded(name)
        request.session.clear()
        request.session.update(
            user=user.name, role=user.role, session=user.session, csrf=secrets.token_urlsafe(24)
        )
        return RedirectResponse("/", 303)

    async def logout(request: Request) -> Any:
        """Log out: every session of this user ends (on every device, across restarts)."""
        form = await request.form()
        if _csrf_ok(request, str(form.get("csrf", ""))):
            marker = str(request.session.get("session", ""))
            if marker.startswith("t"):
                end_token_sessions()
            elif users.path is not None and users.get(str(request.session["user"])).role:
                end_sessions(users.path, str(request.session["user"]))
            request.session.clear()
        return RedirectResponse("/login", 303)

    def token_session() -> int:
        """The token's session generation (kept in the ledger: no users file holds it)."""
        if not users.token:
            return 0
        with reading(changes().db).connect() as conn:
            value = conn.execute(
                select(engine_state.c.value).where(engine_state.c.key == TOKEN_SESSION)
            ).scalar_one_or_none()
        return int(value or 0)

    def end_token_sessions() -> None:
        with changes().db.begin() as conn:
            now = (
                int(
                    conn.execute(
                        select(engine_state.c.value).where(engine_state.c.key == TOKEN_SESSION)
                    ).scalar_one_or_none()
                    or 0
                )
                + 1
            )
            if not conn.execute(
                update(engine_state)
                .where(engine_state.c.key == TOKEN_SESSION)
                .values(value=str(now))
            ).rowcount:
                conn.execute(insert(engine_state).values(key=TOKEN_SESSION, value=str(now)))

    def signed_in(request: Request) -> bool:
        """A session of a user who still is one, with the generation it was made under."""
        name = request.session.get("user")
        return bool(name) and users.valid(
            str(name), str(request.session.get("session", "")), token_session()
        )

    async def dashboard(request: Request) -> Any:
        found_files = [_summary(p) for p in sorted(postings.glob("*.y*ml"))]
        rows: list[dict[str, Any]] = []
        if Path(config.ledger.removeprefix("sqlite:///")).exists() or not config.ledger.startswith(
            "sqlite"
        ):
            found = engine()
            try:  # (a read: beside a running sync on SQLite; off the event loop)
                rows = await asyncio.to_thread(status_rows, found, None)
            finally:
                await found.aclose()
        wanted = request.query_params.get("state", "")
        on = request.query_params.get("board", "")
        listed = [
            {**r, "next": _next_step(r)}
            for r in rows
            if (not wanted or r["state"] == wanted) and (not on or r["board"] == on)
        ]
        return render(
            request,
            "dashboard.html",
            rows=listed,
            files=found_files,
            state=wanted,
            states=sorted({r["state"] for r in rows}),
            board=on,
            boards=sorted({r["board"] for r in rows}),
            waiting=changes().pending() if config.web.require_approval else [],
        )

    async def posting_page(request: Request) -> Any:
        posting_id = request.path_params["id"]
        found = engine()
        try:
            trail = await asyncio.to_thread(found.ledger.history, posting_id)
        finally:
            await found.aclose()
        return render(
            request, "posting.html", id=posting_id, trail=trail, changes=changes().of(posting_id)
        )

    def _summary(path: Path) -> dict[str, Any]:
        """A posting file as the dashboard lists it: when it publishes, where, or its errors."""
        from publisher.rules import RuleContext
        from publisher.validate import load_posting, place

        result = load_posting(path, config, RuleContext.of(config))
        errors = [f for f in place(result) if f.severity == "error"]
        posting = result.posting
        when = posting.publish_time(config.timezone) if posting else None
        return {
            "id": path.stem,
            "errors": len(errors),
            "publishes": when.date().isoformat() if when else "",
            "boards": ", ".join(posting.boards) if posting else "",
        }

    def _file(posting_id: str) -> Path:
        from publisher.schema import ID_RE

        if not ID_RE.fullmatch(posting_id):
            raise HTTPException(404, f"'{posting_id}' is not a posting id")
        return postings / f"{posting_id}.yaml"

    async def edit(request: Request) -> Any:
        posting_id = request.path_params["id"]
        path = _file(posting_id)
        if path.exists():
            text = path.read_text(encoding="utf-8")
        else:
            from publisher.scaffold import _template

            source = request.query_params.get("from", "")
            if source == "example":
                text = _template("example.yaml").replace("{expires}", "2099-12-31")
            elif source:  # jobpub new --from: a copy with its dates cleared
                text = "\n".join(
                    line
                    for line in _file(source).read_text(encoding="utf-8").splitlines()
                    if not line.startswith(("publish_at:", "expires_at:"))
                )
            else:  # the skeleton to fill in
                text = _template("new.yaml").replace("{id}", posting_id)
            text = (
                "\n".join(
                    f"id: {posting_id}" if line.startswith("id:") else line
                    for line in text.splitlines()
                )
                + "\n"
            )
        base = digest(path.read_text(encoding="utf-8")) if path.exists() else ""
        return render(
            request,
            "edit.html",
            id=posting_id,
            text=text,
            base=base,
            problems=check(posting_id, text),
            boards=_boards(text),
        )

    def check(posting_id: str, text: str) -> list[dict[str, Any]]:
        """``validate``'s findings for ``text`` as the file ``<id>.yaml`` (same rules)."""
        from publisher.board_rules import board_checker
        from publisher.rules import RuleContext
        from publisher.validate import load_posting, place

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"{posting_id}.yaml"
            path.write_text(text, encoding="utf-8")
            result = load_posting(path, config, RuleContext.of(config), board_checker(config))
            return [
                {
                    "line": f.line,
                    "column": f.column,
                    "severity": f.severity,
                    "rule": f.rule,
                    "board": f.board,
                    "message": f.message,
                }
                for f in place(result)
            ]

    async def validate(request: Request) -> Any:
        if not _csrf_ok(request, request.headers.get("x-csrf-token", "")):
            return JSONResponse({"error": "bad CSRF token"}, 403)
        body = await request.json()
        return JSONResponse(
            {"problems": check(request.path_params["id"], str(body.get("text", "")))}
        )

    async def save(request: Request) -> Any:
        posting_id = request.path_params["id"]
        form = await request.form()
        if not _csrf_ok(request, str(form.get("csrf", ""))):
            return PlainTextResponse("the form expired: reload the page", 403)
        text, base = str(form.get("text", "")).replace("\r\n", "\n"), str(form.get("base", ""))
        path = _file(posting_id)
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if digest(current) != base and (current or base):
            return render(
                request,
                "edit.html",
                409,
                id=posting_id,
                text=text,
                base=base,
                current=current,
                problems=check(posting_id, text),
                boards=_boards(text),
                error="someone else saved this posting "
                "since you opened it: both versions are below; merge, then save",
            )
        problems = check(posting_id, text)
        if any(p["severity"] == "error" for p in problems):
            return render(
                request,
                "edit.html",
                422,
                id=posting_id,
                text=text,
                base=base,
                problems=problems,
                boards=_boards(text),
                error="not saved: fix the errors first (nothing was written)",
            )
        if waits(request):
            return propose(request, posting_id, "edit", text, base)
        publish(
            request,
            posting_id,
            text,
            user(request),
            f"{'Update' if current else 'Create'} {posting_id} (jobpub serve)",
        )
        request.session.setdefault("notice", "saved")
        return RedirectResponse(f"/postings/{posting_id}/edit", 303)

    async def schedule(request: Request) -> Any:
        posting_id = request.path_params["id"]
        form = await request.form()
        if not _csrf_ok(request, str(form.get("csrf", ""))):
            return PlainTextResponse("the form expired: reload the page", 403)
        path = _file(posting_id)
        yaml = YAML()  # round trip: comments and key order survive
        data = yaml.load(path.read_text(encoding="utf-8"))
        when = str(form.get("publish_at", "")).strip()
        if when:
            from datetime import date

            data["publish_at"] = date.fromisoformat(when) if len(when) == 10 else when
        chosen = [str(b) for b in form.getlist("boards")]
        if chosen:
            data["boards"] = {b: (data.get("boards") or {}).get(b) or {} for b in chosen}
        out = io.StringIO()
        yaml.dump(data, out)
        problems = check(posting_id, out.getvalue())
        if any(p["severity"] == "error" for p in problems):
            return render(
                request,
                "edit.html",
                422,
                id=posting_id,
                text=out.getvalue(),
                base=digest(path.read_text(encoding="utf-8")),
                problems=problems,
                boards=_boards(out.getvalue()),
                error="not scheduled: fix the errors first",
            )
        if waits(request):
            return propose(
                request,
                posting_id,
                "edit",
                out.getvalue(),
                digest(path.read_text(encoding="utf-8")),
            )
        publish(
            request,
            posting_id,
            out.getvalue(),
            user(request),
            f"Schedule {posting_id} (jobpub serve)",
        )
        return RedirectResponse("/", 303)

    async def close_or_reopen(request: Request) -> Any:
        posting_id = request.path_params["id"]
        form = await request.form()
        if not _csrf_ok(request, str(form.get("csrf", ""))):
            return PlainTextResponse("the form expired: reload the page", 403)
        closing = request.url.path.endswith("/close")
        if not closing and waits(request):  # taking a listing down never waits
            return propose(request, posting_id, "reopen")
        found = engine(f"web:{request.session['user']}")
        try:
            if closing:
                await found.expire_now(posting_id)
            else:
                found.reopen(posting_id)
        except PublisherError as exc:
            return PlainTextResponse(str(exc), 409)
        finally:
            await found.aclose()
        return RedirectResponse(f"/postings/{posting_id}", 303)

    def show(request: Request, change: Change, status: int = 200, error: str = "") -> Response:
        path = _file(change.posting_id)
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        edit = change.kind == "edit"
        return render(
            request,
            "change.html",
            status,
            change=change,
            error=error,
            diff=_diff(current, change.text) if edit else "",
            stale=edit
            and change.state == "pending"
            and digest(current) != change.base
            and bool(current or change.base),
            problems=check(change.posting_id, change.text) if edit else [],
        )

    async def change_page(request: Request) -> Any:
        found = changes().get(int(request.path_params["n"]))
        if found is None:
            return PlainTextResponse("no such change", 404)
        return show(request, found)

    async def decide(request: Request) -> Any:
        """Approve or reject (approvers), withdraw (the author); approving applies it."""
        form = await request.form()
        if not _csrf_ok(request, str(form.get("csrf", ""))):
            return PlainTextResponse("the form expired: reload the page", 403)
        found, verb = changes().get(int(request.path_params["n"])), request.path_params["verb"]
        me = user(request)
        if found is None:
            return PlainTextResponse("no such change", 404)
        allowed = me.role == "approver" if verb != "withdraw" else me.name == found.author
        if not allowed:
            return PlainTextResponse(f"you may not {verb} this change", 403)
        if found.state != "pending":
            return PlainTextResponse(f"this change was already {found.state}", 409)
        if verb == "approve":
            refused = await apply(request, found, me)
            if refused:
                return show(request, found, *refused)
        state = {"approve": "approved", "reject": "rejected", "withdraw": "withdrawn"}[verb]
        changes().decide(found.id, state, me.name)
        return RedirectResponse(f"/postings/{found.posting_id}", 303)

    async def apply(request: Request, change: Change, approver: User) -> tuple[int, str] | None:
        """Carry out an approved change, or (status, why not)."""
        author = users.get(change.author)
        if change.kind == "reopen":
            found = engine(f"web:{change.author}, approved by {approver.name}")
            try:
                found.reopen(change.posting_id)
            except PublisherError as exc:
                return 409, str(exc)
            finally:
                await found.aclose()
            return None
        path = _file(change.posting_id)
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if digest(current) != change.base and (current or change.base):
            return 409, (
                "the file changed since this change was made: reject it and ask "
                f"{change.author} to make it again"
            )
        if any(p["severity"] == "error" for p in check(change.posting_id, change.text)):
            return 422, "the change has errors under today's rules: reject it"
        publish(
            request,
            change.posting_id,
            change.text,
            author,
            f"{'Update' if current else 'Create'} {change.posting_id} "
            f"(approved by {approver.name})",
        )
        return None

    async def preview(request: Request) -> Any:
        from publisher.registry import Adapters
        from publisher.rules import RuleContext
        from publisher.validate import load_posting

        posting_id, board = request.path_params["id"], request.path_params["board"]
        result = load_posting(_file(posting_id), config, RuleContext.of(config))
        if result.posting is None:
            return PlainTextResponse("the posting has errors: see the editor", 422)
        return PlainTextResponse(Adapters(config).get(board).preview(result.posting))

    async def asset(request: Request) -> Any:
        from importlib.resources import files

        name = request.url.path.lstrip("/")
        kind = "text/css" if name.endswith(".css") else "text/javascript"
        body = files("publisher.web").joinpath("templates", name).read_bytes()
        return Response(body, media_type=kind)

    routes = [
        Route("/app.css", asset),
        Route("/app.js", asset),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/", dashboard),
        Route("/postings/{id}", posting_page),
        Route("/postings/{id}/edit", edit),
        Route("/postings/{id}/validate", validate, methods=["POST"]),
        Route("/postings/{id}/save", save, methods=["POST"]),
        Route("/postings/{id}/schedule", schedule, methods=["POST"]),
        Route("/postings/{id}/close", close_or_reopen, methods=["POST"]),
        Route("/postings/{id}/reopen", close_or_reopen, methods=["POST"]),
        Route("/postings/{id}/preview/{board}", preview),
        Route("/changes/{n:int}", change_page),
        Route("/changes/{n:int}/{verb:str}", decide, methods=["POST"]),
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
            Middleware(RequireLogin, signed_in=signed_in),
        ],
    )


#: The ledger's engine_state key of the token's session generation.
TOKEN_SESSION = "web-token-session"


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


def _csrf(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(24)
    return str(token)


def _csrf_ok(request: Request, sent: str) -> bool:
    expected = request.session.get("csrf")
    return bool(expected) and secrets.compare_digest(str(expected), sent)


def _boards(text: str) -> list[str]:
    from publisher.registry import boards

    return sorted(b for b in boards() if f"\n  {b}:" in text)


def _next_step(row: dict[str, Any]) -> str:
    """What happens next to a listing, and when (in the posting's time zone)."""
    zone, state = row["_zone"], row["state"]
    if row["hold"]:
        return "closed by hand: Reopen publishes it again"
    if state == "scheduled":
        return f"publishes {local(row['_publishes'], zone)}"
    if state == "pending":
        return "sent: the board confirms it"
    if state == "failed":
        return "needs a person: fix the cause, then jobpub sync --retry-failed"
    refresh, ends = row["next_refresh_at"], row["expires_at"]
    if state == "live" and refresh and (ends is None or refresh < ends):
        return f"refreshed {local(refresh, zone)}"
    if state == "live":
        return f"expires {local(ends, zone)}" if ends else "stays up until closed"
    return ""


def _diff(before: str, after: str) -> str:
    """What an edit changes, as a unified diff."""
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True), after.splitlines(keepends=True), "saved", "proposed"
        )
    )
