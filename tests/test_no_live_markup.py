"""No markup a posting's text carries comes alive in any file a feed or page board writes:
each payload (and each HTML-escaped once) goes into the title, company, summary and lists of
a posting, every feed and page board renders it, and every output is parsed — XML as XML,
pages and every text node as HTML — for elements and attributes that would run or frame
anything."""

from __future__ import annotations

import html
from html.parser import HTMLParser
from xml.etree import ElementTree

import pytest

from publisher.adapter import FileAdapter
from publisher.registry import boards
from tests.adapters.helpers import adapter_for
from tests.factories import NOW, make_posting

RAW = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<iframe src="https://evil.example/"></iframe>',
    '<a href="javascript:alert(1)">x</a>',
    "<svg onload=alert(1)>",
    "end ]]> <b onclick=alert(1)>b</b>",
]
PAYLOADS = RAW + [html.escape(p) for p in RAW]
FORBIDDEN = {
    "script",
    "iframe",
    "svg",
    "object",
    "embed",
    "frame",
    "frameset",
    "math",
    "base",
    "form",
    "style",
}


class _Live(HTMLParser):
    """What would be live if this text were rendered as HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.script: str | None = None  # the type of the script being read
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        own = dict(attrs)
        if tag == "script" and (
            own.get("type") == "application/ld+json" or (own.get("src") or "").endswith("filter.js")
        ):
            self.script = own.get("type") or "src"  # the site's own: JSON-LD, its filter
        elif tag in FORBIDDEN:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag} {name}=")
            if value and value.strip().lower().startswith(("javascript:", "data:text/html")):
                self.found.append(f"{tag} {name}={value}")

    def handle_data(self, data: str) -> None:
        if self.script is not None:
            self.scripts.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self.script = None


def _live(text: str) -> _Live:
    parser = _Live()
    parser.feed(text)
    parser.close()
    return parser


def _file_boards() -> list[str]:
    return sorted(name for name, cls in boards().items() if cls.kind != "api")


ATOM = "{http://www.w3.org/2005/Atom}"


def _shown(node: ElementTree.Element) -> str | None:
    """An element's text as a reader may render it: an Atom text construct of type text
    (the default) is shown as text, never parsed as HTML (RFC 4287 section 3.1.1.1), as is a
    person's name (section 3.2.1: plain text, no type); every other text is checked as if a
    reader rendered it as HTML."""
    if (
        node.tag.startswith(ATOM)
        and node.get("type", "text") == "text"
        and node.tag[len(ATOM) :] in ("title", "subtitle", "summary", "rights", "content", "name")
    ):
        return None
    return node.text


def _findings(board: str, payload: str) -> dict[str, list[str]]:
    """Per file the board writes for a posting carrying ``payload``: what is live in it."""
    posting = make_posting(
        title=f"Data Analyst {payload}",
        summary=f"We build {payload} "
        "dashboards for every team in the company, every day of the week.",
        responsibilities=[f"Own {payload} reports"],
        benefits=[f"Health {payload}"],
        company={"name": f"Example {payload} Corp"},
    )
    adapter = adapter_for(board)
    assert isinstance(adapter, FileAdapter)
    files = adapter.render_files([adapter.feed_item(posting, NOW)], [], NOW)
    assert files
    found: dict[str, list[str]] = {}
    for name, content in files.items():
        if name.endswith((".xml", ".atom")):
            root = ElementTree.fromstring(content)  # well-formed whatever the text held
            found[name] = [
                f"{node.tag}: {live}"
                for node in root.iter()
                for value in (_shown(node), *node.attrib.values())
                if value
                for live in _live(value).found
            ]
        elif name.endswith(".html"):
            page = _live(content.decode())
            found[name] = sorted(page.found)
            for script in page.scripts:  # JSON-LD: nothing in it ends the script element
                assert "</" not in script and "<!--" not in script, (name, script)
    return found


@pytest.mark.parametrize("board", _file_boards())
@pytest.mark.parametrize("payload", PAYLOADS)
def test_no_payload_comes_alive_in_any_file(board: str, payload: str) -> None:
    """What is live in each file is the site's own (its filter form, its style), exactly as
    for a posting without the payload."""
    assert _findings(board, payload) == _findings(board, "plain words")
