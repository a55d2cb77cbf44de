"""Retry timing: ``Retry-After`` parsing (the engine's tenacity wait honours it), when to come
back once retries ran out, and a wait as a person reads it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

__all__ = ["human", "parse_retry_after", "retry_delay"]


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    from publisher import clock

    return max(0.0, (when - (now or clock.now())).total_seconds())


def retry_delay(attempts: int) -> timedelta:
    """When to come back after retries ran out in this run: 5 min, doubling, at most 6 h."""
    return timedelta(minutes=min(360, 5 * 2 ** max(0, attempts - 1)))


def human(wait: timedelta) -> str:
    """A wait as a person reads it (zone-free: history shows it in any time zone)."""
    seconds = int(wait.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds / 3600:g} h"
