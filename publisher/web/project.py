"""What every page of the web app shares: the project (its config, posting files, ledger and
users), the templates, the signed-in user, CSRF tokens, and the checks and writes the pages
make (``validate``'s rules on a text, writing a posting file, proposing a change)."""

from __future__ import annotations

import asyncio
import difflib
import hashlib
import secrets
import tempfile
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import insert, select, update
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from publisher.config import Config
from publisher.database import reading
from publisher.files import write_atomic
from publisher.tables import engine_state
from publisher.views import local
from publisher.web.auth import LoginLimiter, User, Users
from publisher.web.changes import Changes
from publisher.web.git import commit

__all__ = ["TOKEN_SESSION", "Project", "boards_named", "csrf_ok", "diff", "digest", "next_step"]

#: The ledger's engine_state key of the token's session generation.
TOKEN_SESSION = "web-token-session"

_env = Environment(
    loader=PackageLoader("publisher.web", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
)


class Project:
    """The project the app serves, and what its pages do with it."""

    def __init__(self, config: Config, users: Users, limiter: LoginLimiter) -> None:
        self.config, self.users, self.limiter = config, users, limiter
        self.postings = Path(config.postings_dir)
        self._database: Any = None
        self._changes: Changes | None = None

    # -- the ledger ----------------------------------------------------------------------
    def database(self) -> Any:
        """The app's one database engine (its connection pool), disposed at shutdown."""
        if self._database is None:
            from publisher.config import ledger_url
            from publisher.database import connect

            self._database = connect(ledger_url(self.config))
        return self._database

    def close(self) -> None:
        if self._database is not None:
            self._database.dispose()

    def engine(self, actor: str | None = None) -> Any:
        """The engine on the project's ledger; what it records is by ``actor``."""
        from publisher.engine import Engine
        from publisher.ledger import Ledger

        return Engine(self.config, Ledger(self.database(), actor=actor))

    def changes(self) -> Changes:
        if self._changes is None:
            self._changes = Changes(self.database())
        return self._changes

    # -- who is signed in ----------------------------------------------------------------
    def render(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        html = _env.get_template(name).render(
            user=request.session.get("user"),
            role=request.session.get("role"),
            notice=request.session.pop("notice", None),
            csrf=_csrf(request),
            **context,
        )
        return HTMLResponse(html, status_code=status)

    def user(self, request: Request) -> User:
        """The signed-in user: the session's role, the users file's e-mail."""
        name = str(request.session["user"])
        return User(name, str(request.session.get("role", "")), self.users.get(name).email)

    def waits(self, request: Request) -> bool:
        """Whether what this user changes waits for an approver."""
        return self.config.web.require_approval and request.session.get("role") != "approver"

    def token_session(self) -> int:
        """The token's session generation (kept in the ledger: no users file holds it)."""
        if not self.users.token:
            return 0
        with reading(self.changes().db).connect() as conn:
            value = conn.execute(
                select(engine_state.c.value).where(engine_state.c.key == TOKEN_SESSION)
            ).scalar_one_or_none()
        return int(value or 0)

    def end_token_sessions(self) -> None:
        with self.changes().db.begin() as conn:
            found = conn.execute(
                select(engine_state.c.value).where(engine_state.c.key == TOKEN_SESSION)
            ).scalar_one_or_none()
            now = int(found or 0) + 1
            if not conn.execute(
                update(engine_state)
                .where(engine_state.c.key == TOKEN_SESSION)
                .values(value=str(now))
            ).rowcount:
                conn.execute(insert(engine_state).values(key=TOKEN_SESSION, value=str(now)))

    def signed_in(self, request: Request) -> bool:
        """A session of a user who still is one, with the generation it was made under."""
        name = request.session.get("user")
        return bool(name) and self.users.valid(
            str(name), str(request.session.get("session", "")), self.token_session()
        )

    # -- posting files -------------------------------------------------------------------
    def file_of(self, posting_id: str) -> Path:
        from publisher.schema import ID_RE

        if not ID_RE.fullmatch(posting_id):
            raise HTTPException(404, f"'{posting_id}' is not a posting id")
        return self.postings / f"{posting_id}.yaml"

    async def checked(self, posting_id: str, text: str) -> list[dict[str, Any]]:
        """:meth:`check`, off the event loop (validating is CPU and file work)."""
        return await asyncio.to_thread(self.check, posting_id, text)

    def check(self, posting_id: str, text: str) -> list[dict[str, Any]]:
        """``validate``'s findings for ``text`` as the file ``<id>.yaml`` (same rules)."""
        from publisher.board_rules import board_checker
        from publisher.rules import RuleContext
        from publisher.validate import load_posting, place

        config = self.config
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

    def summary(self, path: Path) -> dict[str, Any]:
        """A posting file as the dashboard lists it: when it publishes, where, or its errors."""
        from publisher.rules import RuleContext
        from publisher.validate import load_posting, place

        config = self.config
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

    def publish(
        self, request: Request, posting_id: str, text: str, author: User, message: str
    ) -> None:
        """Write the posting file (and commit it, with ``[web] git_commit``)."""
        path = self.file_of(posting_id)
        write_atomic(path, text.encode("utf-8"))  # (a reader sees the old file or the new)
        if self.config.web.git_commit:
            trouble = commit(path, author.author, message)
            if trouble:
                request.session["notice"] = trouble

    def propose(
        self, request: Request, posting_id: str, kind: str, text: str = "", base: str = ""
    ) -> Response:
        number = self.changes().propose(posting_id, kind, self.user(request).name, text, base)
        request.session["notice"] = "your change waits for an approver"
        return RedirectResponse(f"/changes/{number}", 303)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _csrf(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(24)
    return str(token)


def csrf_ok(request: Request, sent: str) -> bool:
    expected = request.session.get("csrf")
    return bool(expected) and secrets.compare_digest(str(expected), sent)


def boards_named(text: str) -> list[str]:
    from publisher.registry import boards

    return sorted(b for b in boards() if f"\n  {b}:" in text)


def next_step(row: dict[str, Any]) -> str:
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


def diff(before: str, after: str) -> str:
    """What an edit changes, as a unified diff."""
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True), after.splitlines(keepends=True), "saved", "proposed"
        )
    )
