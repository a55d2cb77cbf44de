"""Keeping secrets out of what jobpub stores and prints.

A board's error body is its own words, and some boards echo the request back: headers,
query strings, form fields. Every reason is passed through :func:`redact` before it is
stored in the ledger or shown: credentials by their shape (``Authorization`` values, bearer
and basic tokens, ``access_token=``, ``api_key: ...``, JWTs) and any value equal to a secret
jobpub has read (every ``*_env`` variable of a configured board, every token a board issued),
in any of the forms a board may echo it in (see :func:`remember`).
"""

from __future__ import annotations

import base64
import html
import json
import re
import threading
from urllib.parse import quote, quote_plus

__all__ = ["MASK", "redact", "remember"]

MASK = "[redacted]"
_MIN_SECRET = 6  # shorter values are too likely to be ordinary words

_known: set[str] = set()
_lock = threading.Lock()

_NAMES = (
    r"authorization|proxy-authorization|x-api-key|api[_-]?key|apikey|access[_-]?token|"
    r"refresh[_-]?token|id[_-]?token|client[_-]?secret|secret|password|passwd|token|"
    r"private[_-]?key|assertion|signature|x-jobpub-signature"
)
_PATTERNS = [
    # "Authorization": "Bearer abc", authorization=Basic abc, api_key: abc, token=abc
    re.compile(rf"""(?ix)(["']?\b(?:{_NAMES})\b["']?\s*[:=]\s*["']?)
                    ((?:bearer|basic|token|sha256=)?\s*[^\s"'&,;}}\]]+)"""),
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),  # a JWT
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.S),
]


def remember(value: str | None) -> None:
    """Treat ``value`` as a secret from now on (in this process): as it is, and in each form
    a board may echo it in — JSON-escaped, URL-encoded, HTML-escaped, Base64 — so neither
    the whole secret nor a tail of it survives :func:`redact` whatever characters it holds.
    A short value is a secret only when it is not a plain word (it holds punctuation)."""
    if not value or len(value) < (_MIN_SECRET if value.isalnum() else 4):
        return
    raw = value.encode()
    forms = {
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        quote(value, safe=""),
        quote_plus(value, safe=""),
        html.escape(value),
        html.escape(value, quote=False),
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
    }
    with _lock:
        _known.update(forms)


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
