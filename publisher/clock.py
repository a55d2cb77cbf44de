"""The one place jobpub reads the time: every command, rule and adapter asks :func:`now`,
so tests replace this function with a fake clock (and a later ``--now`` could too)."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["now"]


def now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)
