"""Request signing for boards that sign with a shared secret (HMAC): one helper, so every
adapter signs the same way and a secret never leaves this call."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Literal

__all__ = ["hmac_signature"]


def hmac_signature(
    secret: str,
    message: str | bytes,
    *,
    digest: Literal["sha1", "sha256"],
    encoding: Literal["hex", "base64"],
) -> str:
    """HMAC of ``message`` under ``secret`` (UTF-8), as hex or Base64 text."""
    data = message.encode() if isinstance(message, str) else message
    mac = hmac.new(secret.encode(), data, getattr(hashlib, digest)).digest()
    return mac.hex() if encoding == "hex" else base64.b64encode(mac).decode()
