"""Changes waiting for an approver: a change's page, and approving (which applies it),
rejecting or withdrawing it."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from publisher.errors import PublisherError
from publisher.web.auth import User
from publisher.web.changes import Change
from publisher.web.project import Project, csrf_ok, diff, digest

__all__ = ["Approvals"]


class Approvals:
    """A change's page and the decisions on it."""

    def __init__(self, project: Project) -> None:
        self.p = project

    async def change_page(self, request: Request) -> Any:
        found = self.p.changes().get(int(request.path_params["n"]))
        if found is None:
            return PlainTextResponse("no such change", 404)
        return await self.show(request, found)

    async def decide(self, request: Request) -> Any:
        """Approve or reject (approvers), withdraw (the author); approving applies it."""
        form = await request.form()
        if not csrf_ok(request, str(form.get("csrf", ""))):
            return PlainTextResponse("the form expired: reload the page", 403)
        found, verb = (
            self.p.changes().get(int(request.path_params["n"])),
            request.path_params["verb"],
        )
        me = self.p.user(request)
        if found is None:
            return PlainTextResponse("no such change", 404)
        allowed = me.role == "approver" if verb != "withdraw" else me.name == found.author
        if not allowed:
            return PlainTextResponse(f"you may not {verb} this change", 403)
        if found.state != "pending":
            return PlainTextResponse(f"this change was already {found.state}", 409)
        if verb == "approve":
            refused = await self.apply(request, found, me)
            if refused:
                return await self.show(request, found, *refused)
        state = {"approve": "approved", "reject": "rejected", "withdraw": "withdrawn"}[verb]
        self.p.changes().decide(found.id, state, me.name)
        return RedirectResponse(f"/postings/{found.posting_id}", 303)

    async def show(
        self, request: Request, change: Change, status: int = 200, error: str = ""
    ) -> Response:
        path = self.p.file_of(change.posting_id)
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        edit = change.kind == "edit"
        return self.p.render(
            request,
            "change.html",
            status,
            change=change,
            error=error,
            diff=diff(current, change.text) if edit else "",
            stale=edit
            and change.state == "pending"
            and digest(current) != change.base
            and bool(current or change.base),
            problems=await self.p.checked(change.posting_id, change.text) if edit else [],
        )

    async def apply(
        self, request: Request, change: Change, approver: User
    ) -> tuple[int, str] | None:
        """Carry out an approved change, or (status, why not)."""
        author = self.p.users.get(change.author)
        if change.kind == "reopen":
            found = self.p.engine(f"web:{change.author}, approved by {approver.name}")
            try:
                found.reopen(change.posting_id)
            except PublisherError as exc:
                return 409, str(exc)
            finally:
                await found.aclose()
            return None
        path = self.p.file_of(change.posting_id)
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if digest(current) != change.base and (current or change.base):
            return 409, (
                "the file changed since this change was made: reject it and ask "
                f"{change.author} to make it again"
            )
        if any(
            p["severity"] == "error" for p in await self.p.checked(change.posting_id, change.text)
        ):
            return 422, "the change has errors under today's rules: reject it"
        self.p.publish(
            request,
            change.posting_id,
            change.text,
            author,
            f"{'Update' if current else 'Create'} {change.posting_id} "
            f"(approved by {approver.name})",
        )
        return None
