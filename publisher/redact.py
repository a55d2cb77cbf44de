"""Keeping secrets out of what jobpub stores and prints.

A board's error body is its own words, and some boards echo the request back: headers,
query strings, form fields. Every reason is passed through :func:`redact` before it is
stored in the ledger or shown: credentials by their shape (``Authorization`` values, bearer
and basic tokens, ``access_token=``, ``api_key: ...``, JWTs) and any value equal to a secret
jobpub has read (every ``*_env`` variable of a configured board, every token a board issued).
"""

from __future__ import annotations

import re
import threading

__all__ = ["MASK", "redact", "remember"]

MASK = "[redacted]"
_MIN_SECRET = 6  # shorter values are too likely to be ordinary words

_known: set[str] = set()
_lock = threading.Lock()

_NAMES = (r"authorization|proxy-authorization|x-api-key|api[_-]?key|apikey|access[_-]?token|"
          r"refresh[_-]?token|id[_-]?token|client[_-]?secret|secret|password|passwd|token|"
          r"private[_-]?key|assertion|signature|x-jobpub-signature")
_PATTERNS = [
    # "Authorization": "Bearer abc", authorization=Basic abc, api_key: abc, token=abc
    re.compile(rf"""(?ix)(["']?\b(?:{_NAMES})\b["']?\s*[:=]\s*["']?)
                    ((?:bearer|basic|token|sha256=)?\s*[^\s"'&,;}}\]]+)"""),
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),  # a JWT
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)",
               re.S),
]


def remember(value: str | None) -> None:
    """Treat ``value`` as a secret from now on (in this process)."""
    if value and len(value) >= _MIN_SECRET:
        with _lock:
            _known.add(value)


def redact(text: str) -> str:
    """``text`` with every known secret and anything shaped like a credential masked."""
    if not text:
        return text
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    text = _PATTERNS[0].sub(lambda m: m.group(1) + MASK, text)
    text = _PATTERNS[1].sub(lambda m: f"{m.group(1)} {MASK}", text)
    for pattern in _PATTERNS[2:]:
        text = pattern.sub(MASK, text)
    return text
