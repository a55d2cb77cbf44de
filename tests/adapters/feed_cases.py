"""Checks shared by the feed adapter tests: render the examples, parse the XML back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

from publisher.adapter import FeedItem
from tests.adapters.helpers import EXAMPLES, adapter_for, example, golden_bytes, parse_feed

POSTED = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
BUILT = datetime(2026, 12, 2, 8, 30, tzinfo=UTC)


def render(board: str) -> tuple[str, ElementTree.Element]:
    adapter = adapter_for(board)
    items = [FeedItem.of(example(n), timedelta(days=30), POSTED) for n in EXAMPLES]
    files = adapter.render_files(items, [], BUILT)  # type: ignore[attr-defined]
    assert files == adapter.render_files(items, [], BUILT)  # type: ignore[attr-defined]
    ((name, content),) = files.items()
    return name, parse_feed(content)


def check_golden(board: str) -> None:
    """Each example as this board's feed, byte for byte: every board its own file, so each
    dialect (element names, dates, attributes) is checked whole."""
    adapter = adapter_for(board)
    for name in EXAMPLES:
        item = FeedItem.of(example(name), timedelta(days=30), POSTED)
        (content,) = adapter.render_files([item], [], BUILT).values()  # type: ignore[attr-defined]
        assert content == golden_bytes(board, f"{name}.xml", content)
