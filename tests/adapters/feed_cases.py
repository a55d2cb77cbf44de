"""Checks shared by the feed adapter tests: render the examples, parse the XML back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

from publisher.adapter import FeedItem
from tests.adapters.helpers import EXAMPLES, adapter_for, example, golden, parse_feed

POSTED = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
BUILT = datetime(2026, 12, 2, 8, 30, tzinfo=UTC)


def render(board: str) -> tuple[str, ElementTree.Element]:
    adapter = adapter_for(board)
    items = [FeedItem.of(example(n), timedelta(days=30), POSTED) for n in EXAMPLES]
    files = adapter.render_files(items, [], BUILT)  # type: ignore[attr-defined]
    assert files == adapter.render_files(items, [], BUILT)  # type: ignore[attr-defined]
    (name, content), = files.items()
    return name, parse_feed(content)


def check_golden(board: str) -> None:
    for name in EXAMPLES:
        payload = adapter_for(board).to_payload(example(name))
        assert payload == golden(board, name, payload)
