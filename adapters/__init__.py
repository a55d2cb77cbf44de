"""The board registry: one line per board, sorted by name."""

from __future__ import annotations

from typing import Any

from publisher.adapter import BoardAdapter

ADAPTERS: dict[str, type[BoardAdapter[Any]]] = {}
