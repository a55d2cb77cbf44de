"""Webhook: POSTs the canonical posting and the action as JSON to an in-house career site.

The body is signed with HMAC-SHA256 under a shared secret (header ``X-Jobpub-Signature:
sha256=<hex>``), and every request carries ``Idempotency-Key``: the key of the unit of work
(``<ref>:<action>:r<revision>:<seq>``), the same on every retry and after a crash, new for
every change, reopen or manual expire, so a receiver can drop a repeated delivery and must
apply every new key. A webhook cannot be queried (``reconcile = Reconcile.REPEAT``): an
action whose outcome is unknown is delivered again under its key, never assumed done.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from publisher.boards import (
    ApiAdapter,
    BoardRules,
    BoardSettings,
    Posting,
    Receipt,
    Reconcile,
    RefreshPolicy,
    Tasks,
    hmac_signature,
)

SIGNATURE_HEADER = "X-Jobpub-Signature"


class WebhookSettings(BoardSettings):
    url: str | None = None  # the endpoint; base_url is not used
    secret_env: str | None = None  # env var holding the shared HMAC secret


class WebhookAdapter(ApiAdapter[WebhookSettings]):
    name = "webhook"
    rules = BoardRules()  # the receiver takes any posting jobpub accepts
    refresh_policy = RefreshPolicy()  # nothing to renew
    default_base_url = None  # the endpoint is the url setting
    concurrency = 4
    rate_per_second = None
    reconcile = Reconcile.REPEAT
    batch_size = 1  # one delivery per action
    tasks: ClassVar[Tasks | None] = None  # the receiver answers at once

    def to_payload(self, posting: Posting) -> dict[str, Any]:
        return {"action": "publish", "posting": posting.model_dump(mode="json")}

    def missing_credentials(self) -> list[str]:
        missing = super().missing_credentials()
        return ["url", *missing] if not self.settings.url else missing

    async def _send(
        self, action: str, ref: str, posting: Posting | None, key: str | None
    ) -> Receipt:
        body: dict[str, Any] = {"action": action, "ref": ref}
        if posting is not None:
            body["posting"] = posting.model_dump(mode="json")
        content = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": key or f"{ref}:{action}"}
        if self.settings.secret_env:
            digest = hmac_signature(self.secret("secret"), content, digest="sha256", encoding="hex")
            headers[SIGNATURE_HEADER] = f"sha256={digest}"
        response = await self.client.post(self.settings.url or "", content=content, headers=headers)
        self.raise_for_status(response, missing_ok=action == "withdraw")
        try:
            answer = response.json() if response.content else {}
        except ValueError:
            answer = {}
        answer = answer if isinstance(answer, dict) else {}
        return Receipt(self.name, ref, board_id=str(answer.get("id") or ref), url=answer.get("url"))

    async def publish(self, posting: Posting, ref: str, *, key: str | None = None) -> Receipt:
        return await self._send("publish", ref, posting, key)

    async def update(
        self, posting: Posting, receipt: Receipt, *, key: str | None = None
    ) -> Receipt:
        return await self._send("update", receipt.external_ref, posting, key)

    async def withdraw(self, receipt: Receipt, *, key: str | None = None) -> None:
        await self._send("withdraw", receipt.external_ref, None, key)

    async def lookup(self, ref: str) -> Receipt | None:
        return None  # cannot be queried (reconcile = REPEAT): the engine never asks
