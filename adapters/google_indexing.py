"""The Google Indexing API's OAuth token for the google board: a JWT signed with the
service account's key (the "google" extra), exchanged at the token URL.

https://developers.google.com/search/apis/indexing-api/v3/prereqs (service account, scope)
"""

from __future__ import annotations

import json
from typing import Any

from publisher.boards import BoardAuthError, remember

__all__ = ["INDEXING_SCOPE", "access_token"]

INDEXING_SCOPE = "https://www.googleapis.com/auth/indexing"


async def access_token(adapter: Any, token_url: str) -> str:
    """A bearer token for the adapter's service account; key and token are secrets."""
    from google.auth import crypt, jwt  # the "google" extra

    key_path = adapter.secret("service_account")
    try:
        with open(key_path, encoding="utf-8") as handle:
            info = json.load(handle)
        signer = crypt.RSASigner.from_service_account_info(info)  # type: ignore[no-untyped-call]
        issuer = str(info["client_email"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BoardAuthError(
            adapter.name, f"unusable service-account key file: {type(exc).__name__}"
        ) from None
    remember(str(info.get("private_key", "")))
    now = int(adapter.clock().timestamp())
    claims = {
        "iss": issuer,
        "scope": INDEXING_SCOPE,
        "aud": token_url,
        "iat": now,
        "exp": now + 3600,
    }
    assertion = jwt.encode(signer, claims).decode()  # type: ignore[no-untyped-call]
    response = await adapter.client.post(
        token_url,
        data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion},
    )
    adapter.raise_for_status(response)
    try:
        token = str(response.json()["access_token"])
    except (ValueError, KeyError, TypeError) as exc:
        raise BoardAuthError(
            adapter.name, f"unusable token answer: {type(exc).__name__}", response.status_code
        ) from None
    remember(token)
    return token
