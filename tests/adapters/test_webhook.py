"""Webhook: signed JSON deliveries and error classification."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx
import pytest
import respx
from respx.models import AllMockedAssertionError

from adapters.webhook import WebhookAdapter
from publisher.adapter import Receipt
from publisher.errors import BoardAuthError, BoardRejected, BoardUnavailable, NotOnBoard
from tests.factories import make_posting

URL = "https://careers.example.com/hooks/jobpub"


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("HOOK_SECRET", "s3cret")
    return "s3cret"


def _adapter(client: httpx.AsyncClient) -> WebhookAdapter:
    adapter = WebhookAdapter.make({"url": URL, "secret_env": "HOOK_SECRET"}, client)
    assert isinstance(adapter, WebhookAdapter)
    return adapter


async def test_publish_is_signed_and_idempotent(http: respx.MockRouter, secret: str) -> None:
    route = http.post(URL).mock(
        return_value=httpx.Response(
            201, json={"id": "site-42", "url": "https://careers.example.com/jobs/42"}
        )
    )
    async with httpx.AsyncClient() as client:
        receipt = await _adapter(client).publish(make_posting(), "jobpub-x-webhook")
    assert receipt == Receipt(
        "webhook", "jobpub-x-webhook", "site-42", "https://careers.example.com/jobs/42"
    )
    sent = route.calls.last.request
    expected = hmac.new(secret.encode(), sent.content, hashlib.sha256).hexdigest()
    assert sent.headers["X-Jobpub-Signature"] == f"sha256={expected}"
    assert sent.headers["Idempotency-Key"] == "jobpub-x-webhook:publish"
    body = json.loads(sent.content)
    assert body["action"] == "publish" and body["posting"]["id"] == "data-analyst"


async def test_update_and_withdraw_actions(http: respx.MockRouter, secret: str) -> None:
    route = http.post(URL).mock(side_effect=[httpx.Response(200, json={}), httpx.Response(404)])
    receipt = Receipt("webhook", "ref-1", "site-1")
    async with httpx.AsyncClient() as client:
        hook = _adapter(client)
        await hook.update(make_posting(), receipt)
        with pytest.raises(NotOnBoard):  # already gone on the site: the engine's "withdrawn"
            await hook.withdraw(receipt)
    actions = [json.loads(c.request.content)["action"] for c in route.calls]
    assert actions == ["update", "withdraw"]
    assert "posting" not in json.loads(route.calls.last.request.content)


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.Response(400, text="title missing"), BoardRejected),
        (httpx.Response(401), BoardAuthError),
        (httpx.Response(429, headers={"Retry-After": "7"}), BoardUnavailable),
        (httpx.Response(503), BoardUnavailable),
    ],
)
async def test_errors_are_classified(
    http: respx.MockRouter, secret: str, response: httpx.Response, error: type[Exception]
) -> None:
    route = http.post(URL).mock(return_value=response)
    async with httpx.AsyncClient() as client:
        with pytest.raises(error) as caught:
            await _adapter(client).publish(make_posting(), "ref-1")
    assert route.called
    if response.status_code == 429:
        assert isinstance(caught.value, BoardUnavailable) and caught.value.retry_after == 7
    if response.status_code == 400:
        assert "title missing" in str(caught.value) and "s3cret" not in str(caught.value)


async def test_unmocked_http_fails_the_test() -> None:
    async with httpx.AsyncClient() as client:
        with pytest.raises(AllMockedAssertionError):
            await client.get("https://example.com/")
