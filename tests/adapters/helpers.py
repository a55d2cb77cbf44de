"""Shared helpers for adapter tests: example postings, adapters built like production."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx

from publisher.adapter import BoardAdapter
from publisher.config import load_config
from publisher.registry import boards
from publisher.schema import Posting
from publisher.validate import load_posting
from tests.factories import ROOT, context

EXAMPLES = sorted(p.stem for p in (ROOT / "postings").glob("*.yaml"))
PAYLOADS = Path(__file__).parent / "payloads"


def example(name: str) -> Posting:
    config = load_config(ROOT / "config/jobpub.toml")
    result = load_posting(ROOT / "postings" / f"{name}.yaml", config, context())
    assert result.posting is not None, result.problems
    return result.posting


def adapter_for(
    board: str, client: httpx.AsyncClient | None = None, **settings: Any
) -> BoardAdapter[Any]:
    """The adapter as production builds it: config table merged with ``settings``."""
    config = load_config(ROOT / "config/jobpub.toml")
    return boards()[board].make({**config.boards.get(board, {}), **settings}, client)


def golden(board: str, name: str, payload: Any) -> Any:
    """The stored golden payload (written on first run with JOBPUB_UPDATE_GOLDEN=1)."""
    import os

    path = PAYLOADS / board / f"{name}.json"
    if os.environ.get("JOBPUB_UPDATE_GOLDEN"):
        if os.environ.get("CI"):  # a golden test that rewrites its golden file cannot fail
            raise AssertionError("JOBPUB_UPDATE_GOLDEN is refused under CI")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    return json.loads(path.read_text())


def golden_bytes(board: str, name: str, content: bytes) -> bytes:
    """The stored golden file ``payloads/<board>/<name>`` (same rules as :func:`golden`)."""
    import os

    path = PAYLOADS / board / name
    if os.environ.get("JOBPUB_UPDATE_GOLDEN"):
        if os.environ.get("CI"):
            raise AssertionError("JOBPUB_UPDATE_GOLDEN is refused under CI")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return path.read_bytes()


def parse_feed(content: bytes) -> ElementTree.Element:
    assert content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    assert b"&amp;" not in content  # literal text in CDATA (but what would read as markup)
    return ElementTree.fromstring(content)
