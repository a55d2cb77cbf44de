"""Secrets are masked in every form a board may echo them in (the raw value, JSON-escaped,
URL-encoded, HTML-escaped, Base64), whatever characters they hold."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote, urlencode

import pytest

from publisher.errors import BoardRejected
from publisher.redact import MASK, redact, remember

SECRET = 'a"b\\c'  # a quote and a backslash: JSON escapes both


@pytest.mark.parametrize(
    "echo",
    [
        json.dumps({"error": "bad key", "echo": {"api_key": SECRET}}),
        json.dumps({"error": "bad key", "echo": {"headers": {"X-Key": SECRET}}}),
        json.dumps({"error": f"no such key: {SECRET}"}, ensure_ascii=False),
        f"GET /jobs?{urlencode({'key': SECRET})} refused",
        f"GET /jobs?key={quote(SECRET, safe='')} refused",
        f"<p>key &quot;{SECRET.replace(chr(34), '&quot;')}&quot; is wrong</p>",
        f"X-Key: {base64.b64encode(SECRET.encode()).decode()} refused",
        f"plain {SECRET} end",
    ],
)
def test_an_echoed_secret_never_appears_whole_or_in_part(echo: str) -> None:
    remember(SECRET)
    shown = str(BoardRejected("someboard", echo, 400))
    assert MASK in shown
    for leak in (
        "b\\c",
        "b\\\\c",
        'a\\"',
        "b%5Cc",
        "a%22",
        "b&quot;".replace("b", "a"),
        base64.b64encode(SECRET.encode()).decode()[:6],
    ):
        assert leak not in shown, (leak, shown)


def test_a_short_plain_word_is_not_taken_for_a_secret() -> None:
    remember("alpha")  # five letters: too likely an ordinary word
    assert redact("alpha and beta") == "alpha and beta"
