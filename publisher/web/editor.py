"""Changing postings in the web app: the YAML editor with live validation, saving,
scheduling, and closing or reopening a posting (as ``jobpub expire`` / ``reopen``)."""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse

from publisher.errors import PublisherError
from publisher.web.project import Project, boards_named, csrf_ok, digest

__all__ = ["Editor"]


class Editor:
    """The editor and the actions on a posting."""

    def __init__(self, project: Project) -> None:
        self.p = project

    async def edit(self, request: Request) -> Any:
        posting_id = request.path_params["id"]
        path = self.p.file_of(posting_id)
        if path.exists():
            text = path.read_text(encoding="utf-8")
        else:
            from publisher.scaffold import template

            source = request.query_params.get("from", "")
            if source == "example":
                text = template("example.yaml").replace("{expires}", "2099-12-31")
            elif source:  # jobpub new --from: a copy with its dates cleared
                text = "\n".join(
                    line
                    for line in self.p.file_of(source).read_text(encoding="utf-8").splitlines()
                    if not line.startswith(("publish_at:", "expires_at:"))
                )
            else:  # the skeleton to fill in
                text = template("new.yaml").replace("{id}", posting_id)
            text = (
                "\n".join(
                    f"id: {posting_id}" if line.startswith("id:") else line
                    for line in text.splitlines()
                )
                + "\n"
            )
        base = digest(path.read_text(encoding="utf-8")) if path.exists() else ""
        return self.p.render(
            request,
            "edit.html",
            id=posting_id,
            text=text,
            base=base,
            problems=await self.p.checked(posting_id, text),
            boards=boards_named(text),
        )

    async def validate(self, request: Request) -> Any:
        if not csrf_ok(request, request.headers.get("x-csrf-token", "")):
            return JSONResponse({"error": "bad CSRF token"}, 403)
        body = await request.json()
        return JSONResponse(
            {"problems": await self.p.checked(request.path_params["id"], str(body.get("text", "")))}
        )

    async def save(self, request: Request) -> Any:
        posting_id = request.path_params["id"]
        form = await request.form()
        if not csrf_ok(request, str(form.get("csrf", ""))):
            return PlainTextResponse("the form expired: reload the page", 403)
        text, base = str(form.get("text", "")).replace("\r\n", "\n"), str(form.get("base", ""))
        path = self.p.file_of(posting_id)
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if digest(current) != base and (current or base):
            return self.p.render(
                request,
                "edit.html",
                409,
                id=posting_id,
                text=text,
                base=base,
                current=current,
                problems=await self.p.checked(posting_id, text),
                boards=boards_named(text),
                error="someone else saved this posting "
                "since you opened it: both versions are below; merge, then save",
            )
        problems = await self.p.checked(posting_id, text)
        if any(p["severity"] == "error" for p in problems):
            return self.p.render(
                request,
                "edit.html",
                422,
                id=posting_id,
                text=text,
                base=base,
                problems=problems,
                boards=boards_named(text),
                error="not saved: fix the errors first (nothing was written)",
            )
        if self.p.waits(request):
            return self.p.propose(request, posting_id, "edit", text, base)
        self.p.publish(
            request,
            posting_id,
            text,
            self.p.user(request),
            f"{'Update' if current else 'Create'} {posting_id} (jobpub serve)",
        )
        request.session.setdefault("notice", "saved")
        return RedirectResponse(f"/postings/{posting_id}/edit", 303)

    async def schedule(self, request: Request) -> Any:
        posting_id = request.path_params["id"]
        form = await request.form()
        if not csrf_ok(request, str(form.get("csrf", ""))):
            return PlainTextResponse("the form expired: reload the page", 403)
        path = self.p.file_of(posting_id)
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
        problems = await self.p.checked(posting_id, out.getvalue())
        if any(p["severity"] == "error" for p in problems):
            return self.p.render(
                request,
                "edit.html",
                422,
                id=posting_id,
                text=out.getvalue(),
                base=digest(path.read_text(encoding="utf-8")),
                problems=problems,
                boards=boards_named(out.getvalue()),
                error="not scheduled: fix the errors first",
            )
        if self.p.waits(request):
            return self.p.propose(
                request,
                posting_id,
                "edit",
                out.getvalue(),
                digest(path.read_text(encoding="utf-8")),
            )
        self.p.publish(
            request,
            posting_id,
            out.getvalue(),
            self.p.user(request),
            f"Schedule {posting_id} (jobpub serve)",
        )
        return RedirectResponse("/", 303)

    async def close_or_reopen(self, request: Request) -> Any:
        posting_id = request.path_params["id"]
        form = await request.form()
        if not csrf_ok(request, str(form.get("csrf", ""))):
            return PlainTextResponse("the form expired: reload the page", 403)
        closing = request.url.path.endswith("/close")
        if not closing and self.p.waits(request):  # taking a listing down never waits
            return self.p.propose(request, posting_id, "reopen")
        found = self.p.engine(f"web:{request.session['user']}")
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
