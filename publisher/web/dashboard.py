"""What the web app shows: the dashboard of every posting on every board, a posting's
page (its history and changes), a board's preview, and the static assets."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from publisher.views import status_rows
from publisher.web.project import Project, next_step

__all__ = ["Dashboard"]


class Dashboard:
    """The pages that show the project."""

    def __init__(self, project: Project) -> None:
        self.p = project

    async def dashboard(self, request: Request) -> Any:
        found_files = await asyncio.to_thread(
            lambda: [self.p.summary(p) for p in sorted(self.p.postings.glob("*.y*ml"))]
        )
        rows: list[dict[str, Any]] = []
        if Path(
            self.p.config.ledger.removeprefix("sqlite:///")
        ).exists() or not self.p.config.ledger.startswith("sqlite"):
            found = self.p.engine()
            try:  # (a read: beside a running sync on SQLite; off the event loop)
                rows = await asyncio.to_thread(status_rows, found, None)
            finally:
                await found.aclose()
        wanted = request.query_params.get("state", "")
        on = request.query_params.get("board", "")
        listed = [
            {**r, "next": next_step(r)}
            for r in rows
            if (not wanted or r["state"] == wanted) and (not on or r["board"] == on)
        ]
        return self.p.render(
            request,
            "dashboard.html",
            rows=listed,
            files=found_files,
            state=wanted,
            states=sorted({r["state"] for r in rows}),
            board=on,
            boards=sorted({r["board"] for r in rows}),
            waiting=self.p.changes().pending() if self.p.config.web.require_approval else [],
        )

    async def posting_page(self, request: Request) -> Any:
        posting_id = request.path_params["id"]
        found = self.p.engine()
        try:
            trail = await asyncio.to_thread(found.ledger.history, posting_id)
        finally:
            await found.aclose()
        return self.p.render(
            request,
            "posting.html",
            id=posting_id,
            trail=trail,
            changes=self.p.changes().of(posting_id),
        )

    async def preview(self, request: Request) -> Any:
        from publisher.registry import Adapters
        from publisher.rules import RuleContext
        from publisher.validate import load_posting

        posting_id, board = request.path_params["id"], request.path_params["board"]
        result = load_posting(
            self.p.file_of(posting_id), self.p.config, RuleContext.of(self.p.config)
        )
        if result.posting is None:
            return PlainTextResponse("the posting has errors: see the editor", 422)
        return PlainTextResponse(Adapters(self.p.config).get(board).preview(result.posting))

    async def asset(self, request: Request) -> Any:
        from importlib.resources import files

        name = request.url.path.lstrip("/")
        kind = "text/css" if name.endswith(".css") else "text/javascript"
        body = files("publisher.web").joinpath("templates", name).read_bytes()
        return Response(body, media_type=kind)
