"""Telling people about incidents (``[notify]``), once each: a listing that failed for good
(it needs a person), a board that refuses jobpub's credentials (one incident for the
board, however many listings it failed) and work stuck past its lease (its worker died or
hangs: the run that takes it over reports it; it is reconciled before anything is sent
again). An incident stays open while its condition lasts and is announced once, to a
Slack-compatible incoming hook and/or by e-mail (SMTP); when it ends it is closed, and a
recurrence is a new incident. Messages never carry a secret (they pass through
:func:`publisher.redact.redact`; the hook URL is itself treated as one).

Several workers may notice the same incident: it is opened once (a unique index on open
keys) and claimed for sending by one of them. A message no channel took is sent again next
time."""

from __future__ import annotations

import asyncio
import os
import smtplib
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from publisher.redact import redact, remember
from publisher.tables import incidents, listings

if TYPE_CHECKING:
    from publisher.config import Notify
    from publisher.engine import SyncResult
    from publisher.ledger import Ledger

__all__ = ["Incident", "announce", "incidents_now", "seen_by_sync"]


@dataclass(frozen=True)
class Incident:
    key: str
    message: str


def incidents_now(ledger: Ledger, result: SyncResult) -> list[Incident]:
    """The incidents the ledger and this run show."""
    with ledger.reads.connect() as conn:
        failed = conn.execute(
            select(listings.c.posting_id, listings.c.board, listings.c.last_error)
            .where(listings.c.state == "failed")
            .order_by(listings.c.board, listings.c.posting_id)
        ).all()
        open_auth = set(
            conn.execute(
                select(incidents.c.key).where(
                    incidents.c.resolved_at.is_(None), incidents.c.key.like("auth:%")
                )
            ).scalars()
        )
    worked = {d.board for d in result.outcomes if d.state in ("done", "waiting")}
    refused = dict(result.broken)
    for key in open_auth:  # still refused until a call to the board goes through
        board = key.partition(":")[2]
        if board not in worked:
            refused.setdefault(board, "refused earlier")
    found = [
        Incident(
            f"auth:{board}",
            f"{board} refuses jobpub's credentials ({reason}): "
            "fix them, then run jobpub sync --retry-failed",
        )
        for board, reason in sorted(refused.items())
    ]
    found += [
        Incident(
            f"failed:{posting}:{board}",
            f"{posting} on {board} failed and needs a person: {error or 'no reason given'}",
        )
        for posting, board, error in failed
        if board not in refused
    ]
    found += [
        Incident(
            f"stuck:{row.id}",
            f"{row.kind} of {row.posting} on {row.board} was "
            f"stuck past its lease (held by {row.owner}) and was taken over",
        )
        for row in result.taken_over
    ]
    return found


def seen_by_sync(key: str) -> bool:
    """The incidents a sync sees whole (``jobpub verify`` sees drift)."""
    return key.partition(":")[0] in ("failed", "auth", "stuck")


async def announce(
    ledger: Ledger,
    notify: Notify,
    current: list[Incident],
    now: datetime,
    scope: Callable[[str], bool] = seen_by_sync,
) -> list[str]:
    """Open new incidents, close the ended ones in ``scope`` (``current`` is all of those
    there are), send what was not sent; returns notes."""
    claimed = _record(ledger, current, now, scope)
    if not claimed:
        return []
    lines = [redact(message) for _, message in claimed]
    text = f"jobpub: {len(lines)} new incident(s)\n" + "\n".join(f"- {m}" for m in lines)
    failures = []
    for channel in _channels(notify):
        try:
            await channel(text)
        except Exception as exc:  # a channel's failure is a note, never the run's
            failures.append(redact(f"{type(exc).__name__}: {exc}"))
    if failures and len(failures) == len(_channels(notify)):
        with ledger.engine.begin() as conn:  # nobody was told: next time, again
            conn.execute(
                update(incidents)
                .where(incidents.c.id.in_([i for i, _ in claimed]))
                .values(notified_at=None)
            )
        return [f"could not notify ({'; '.join(failures)}): trying again next run"]
    notes = [f"notified {len(lines)} incident(s)"]
    return notes + [f"one notification channel failed: {f}" for f in failures]


def _record(
    ledger: Ledger, current: list[Incident], now: datetime, scope: Callable[[str], bool]
) -> list[tuple[int, str]]:
    keys = {i.key for i in current}
    with ledger.engine.begin() as conn:
        known = dict(
            conn.execute(
                select(incidents.c.key, incidents.c.id).where(incidents.c.resolved_at.is_(None))
            ).all()
        )
        new = [
            {"key": i.key, "message": i.message, "opened_at": now}
            for i in current
            if i.key not in known
        ]
        if new:
            conn.execute(ledger._insert(incidents).on_conflict_do_nothing(), new)
        ended = [known[k] for k in known if k not in keys and scope(k)]
        if ended:
            conn.execute(update(incidents).where(incidents.c.id.in_(ended)).values(resolved_at=now))
    claimed = []
    with ledger.engine.begin() as conn:
        waiting = conn.execute(
            select(incidents.c.id, incidents.c.message)
            .where(incidents.c.resolved_at.is_(None), incidents.c.notified_at.is_(None))
            .order_by(incidents.c.id)
        ).all()
        for number, message in waiting:  # another worker may be claiming them too
            taken = conn.execute(
                update(incidents)
                .where(incidents.c.id == number, incidents.c.notified_at.is_(None))
                .values(notified_at=now)
            )
            if taken.rowcount == 1:
                claimed.append((number, message))
    return claimed


def _channels(notify: Notify) -> list[Callable[[str], Awaitable[None]]]:
    found: list[Callable[[str], Awaitable[None]]] = []
    if notify.webhook_url_env:
        found.append(lambda text: _webhook(notify, text))
    if notify.smtp_host and notify.email_to:
        found.append(lambda text: asyncio.to_thread(_mail, notify, text))
    return found


async def _webhook(notify: Notify, text: str) -> None:
    import httpx

    url = os.environ.get(notify.webhook_url_env or "")
    if not url:
        raise RuntimeError(f"{notify.webhook_url_env} is not set")
    remember(url)  # a hook URL is a credential
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.post(url, json={"text": text})
    if answer.status_code >= 300:
        raise RuntimeError(f"the incoming hook answered HTTP {answer.status_code}")


def _mail(notify: Notify, text: str) -> None:
    message = EmailMessage()
    message["Subject"] = text.splitlines()[0]
    message["From"] = notify.email_from or f"jobpub@{notify.smtp_host}"
    message["To"] = ", ".join(notify.email_to)
    message.set_content(text)
    user = os.environ.get(notify.smtp_user_env or "")
    password = os.environ.get(notify.smtp_password_env or "")
    remember(password)
    with smtplib.SMTP(notify.smtp_host or "", notify.smtp_port, timeout=20) as server:
        if notify.smtp_starttls:
            server.starttls(context=ssl.create_default_context())
        if user and password:
            server.login(user, password)
        server.send_message(message)
