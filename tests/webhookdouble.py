"""The webhook's receiver as the README documents it: JSON ``{action, ref, posting}``,
deduplicated by the ``Idempotency-Key`` header."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from tests.conformance import Double, json_body

HOOK = "https://careers.example.test/hooks/jobpub"


class WebhookDouble(Double):
    """The webhook's documented shape: JSON {action, ref, posting}, deduplicated by the
    Idempotency-Key (a repeated key gets the first answer and changes nothing)."""

    prefixes = (HOOK,)
    settings: ClassVar[Mapping[str, Any]] = {"url": HOOK}

    def __init__(self) -> None:
        super().__init__()
        self.open: dict[str, dict[str, Any] | None] = {}
        self.answers: dict[str, httpx.Response] = {}

    def process(self, request: httpx.Request) -> httpx.Response:
        key = request.headers.get("Idempotency-Key", "")
        if key in self.answers:
            return self.answers[key]
        body = json_body(request)
        ref = str(body.get("ref"))
        if body.get("action") == "withdraw":
            self.open.pop(ref, None)
        else:
            self.open[ref] = body.get("posting")
        self.answers[key] = httpx.Response(200, json={"id": ref})
        return self.answers[key]

    def open_refs(self) -> dict[str, int]:
        return dict.fromkeys(self.open, 1)

    def content(self, ref: str) -> str:
        return str((self.open.get(ref) or {}).get("title"))

    def close_out_of_band(self, ref: str) -> None:
        self.open.pop(ref, None)  # the receiver took it down itself; a withdraw is a no-op
