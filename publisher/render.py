"""Turning a posting's Markdown into the description boards receive: Markdown, HTML, text.

Markdown is rendered by markdown-it-py with raw HTML disabled, then sanitized by nh3
(ammonia) to a small allow-list of tags, so no markup in a posting reaches a page as script.
"""

from __future__ import annotations

import hashlib
import html
import re
import weakref
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from publisher.schema import Location, Posting, Salary

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

    from publisher.html_cache import HtmlCache

__all__ = [
    "ALLOWED_TAGS",
    "cache_in",
    "content_text",
    "description_html",
    "description_markdown",
    "description_text",
    "flush_cache",
    "location_text",
    "markdown_html",
    "salary_text",
]

ALLOWED_TAGS = {"p", "br", "ul", "ol", "li", "strong", "em", "b", "i", "h2", "h3", "a", "code"}
PERIOD_WORDS = {"hour": "hour", "day": "day", "week": "week", "month": "month", "year": "year"}


@cache
def _md() -> MarkdownIt:
    from markdown_it import MarkdownIt  # loaded on first render (validate rarely renders)

    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def markdown_html(markdown: str) -> str:
    """Markdown -> sanitized HTML, looked up by content hash first (in this process, then
    in the cache folder set by :func:`cache_in`): a sync renders only what is new."""
    key = hashlib.sha256(_salt() + markdown.encode()).hexdigest()
    found = _CACHE.get(key)
    if found is None:
        disk = _disk[0] if _disk else None
        found = disk.get(key) if disk else None
        if found is None:
            found = _clean(
                _md().render(markdown),
                tags=ALLOWED_TAGS,
                attributes={"a": {"href"}},
                url_schemes={"https", "http", "mailto"},
                link_rel="nofollow noopener",
            )
            if disk:
                disk.put(key, found)
        if len(_CACHE) >= 50_000:
            _CACHE.clear()
        _CACHE[key] = found
    return found


#: What the HTML of a Markdown text depends on besides the text: the renderer, the sanitizer
#: and their settings. A new version of either makes new keys.
def _clean(html_text: str, **options: Any) -> str:
    """nh3 (ammonia), loaded on first use."""
    import nh3

    return nh3.clean(html_text, **options)


@cache
def _salt() -> bytes:
    import markdown_it
    import nh3

    return (
        f"{markdown_it.__version__}|{getattr(nh3, '__version__', '')}|"
        f"{sorted(ALLOWED_TAGS)}|nofollow noopener|1\n"
    ).encode()


_CACHE: dict[str, str] = {}
_disk: list[HtmlCache] = []


def cache_in(folder: Path | None) -> None:
    """Keep rendered HTML in ``folder`` between runs (None: in this process only)."""
    from publisher.html_cache import HtmlCache

    for disk in _disk:
        disk.close()
    _disk[:] = [HtmlCache(folder)] if folder is not None else []


def flush_cache() -> None:
    """Write the HTML rendered since the last flush to the cache folder."""
    for disk in _disk:
        disk.flush()


def amount(value: float) -> str:
    """``85,000``, or ``22.50`` for a fractional amount."""
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


def salary_text(salary: Salary) -> str:
    """``85,000-120,000 USD per year`` (with an en dash)."""
    span = amount(salary.min)
    if salary.max is not None and salary.max != salary.min:
        span += f"\u2013{amount(salary.max)}"
    return f"{span} {salary.currency} per {PERIOD_WORDS[salary.period]}"


def location_text(location: Location) -> str:
    """``Denver, CO, US``."""
    return ", ".join(p for p in (location.city, location.region, location.country) if p)


def _bullets(title: str, items: list[str]) -> list[str]:
    if not items:
        return []
    return [f"## {title}", "", *(f"- {item}" for item in items), ""]


def description_markdown(posting: Posting, details: bool = True) -> str:
    """The full description every board gets, in Markdown, in a fixed section order
    (``details=False``: without the facts a page already lists)."""
    parts = [posting.summary.strip(), ""]
    parts += _bullets("Responsibilities", posting.responsibilities)
    parts += _bullets("Qualifications", posting.qualifications)
    parts += _bullets("Preferred qualifications", posting.preferred_qualifications)
    parts += _bullets("Benefits", posting.benefits)
    facts: list[str] = []
    if posting.workplace == "remote":
        where = ", ".join(posting.remote_eligibility)
        facts.append(f"**Workplace:** fully remote (applicants in {where})")
    elif posting.locations:
        places = "; ".join(location_text(loc) for loc in posting.locations)
        facts.append(f"**Location:** {places} ({posting.workplace})")
    if posting.salary is not None:
        facts.append(f"**Pay:** {salary_text(posting.salary)}")
    if not details:
        facts.clear()  # a page lists where and the pay among its facts
    if posting.reports_to:
        facts.append(f"**Reports to:** {posting.reports_to}")
    if posting.work_environment:
        facts.append(f"**Work environment:** {posting.work_environment}")
    if posting.travel:
        facts.append(f"**Travel:** {posting.travel}")
    if facts:
        parts += ["## Details", "", *(f"- {d}" for d in facts), ""]
    apply = [posting.apply.instructions or ""]
    if posting.apply.url:
        apply.append(f"Apply at <{posting.apply.url}>.")
    if posting.apply.email:
        apply.append(f"E-mail: <{posting.apply.email}>.")
    parts += ["## How to apply", "", " ".join(a for a in apply if a), ""]
    said = posting.disclosures
    if said is not None and said.ai_screening is not None:
        parts += [
            "Artificial intelligence is "
            + ("" if said.ai_screening else "not ")
            + "used to screen, assess or select applicants for this position.",
            "",
        ]
    if said is not None and said.existing_vacancy is not None:
        parts += [
            "This posting is for "
            + (
                "an existing vacancy."
                if said.existing_vacancy
                else "future openings, not an existing vacancy."
            ),
            "",
        ]
    if posting.eeo_statement:
        parts += [posting.eeo_statement.strip(), ""]
    return "\n".join(parts).strip() + "\n"


_RENDERED: dict[int, str] = {}  # id(posting) -> description HTML, while the posting lives


def description_html(posting: Posting) -> str:
    """The full description as sanitized HTML.

    Rendered once per posting object (postings are frozen): every feed, page and board
    rule of a sync asks for the same HTML, a few milliseconds of Markdown each time.
    """
    key = id(posting)
    rendered = _RENDERED.get(key)
    if rendered is None:
        rendered = _RENDERED[key] = markdown_html(description_markdown(posting)).strip()
        weakref.finalize(posting, _RENDERED.pop, key, None)
    return rendered


_BLOCK_END = re.compile(r"</(p|li|h2|h3)>|<br\s*/?>")


def content_text(posting: Posting) -> str:
    """The employer-written part (brief, responsibilities, qualifications) as plain text."""
    parts = [posting.summary, *posting.responsibilities, *posting.qualifications]
    return _plain(markdown_html("\n\n".join(parts)))


def _plain(html_text: str) -> str:
    marked = _BLOCK_END.sub("\n", html_text)
    text = html.unescape(_clean(marked, tags=set()))
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def restrict_html(html_text: str, tags: frozenset[str]) -> str:
    """Sanitized HTML reduced to ``tags`` (others dropped, their text kept)."""
    return _clean(html_text, tags=set(tags), attributes={})


_TAG = re.compile(r"<[A-Za-z/!?][^<>]*>")


def plain_text(value: str) -> str:
    """A plain-text field (title, company, place) with no markup in it: a feed puts it in
    CDATA as it is, and a consumer that renders it must not find a ``<script>`` there."""
    if "<" not in value:
        return value
    text = html.unescape(_clean(value, tags=set(), clean_content_tags={"script", "style"}))
    return _TAG.sub("", text).strip()


_MARKUP = re.compile(r"(<[^<>]*>)")
_CHARACTER_REF = re.compile(r"&[^\s&<>]{0,32}")


def literal_html(html_text: str) -> str:
    """Sanitized HTML with its text in literal characters, for feeds that ask for no HTML
    entities: ``&eacute;`` becomes é, ``&amp;`` a bare & — but a character that
    would turn text into markup keeps its entity (``<`` and ``>``, and a ``&`` that would
    start a character reference), so text is never made live by writing it literally."""
    parts = _MARKUP.split(html_text)
    for i in range(0, len(parts), 2):  # text between tags (tags are what nh3 let through)
        text = html.unescape(parts[i])
        text = _CHARACTER_REF.sub(
            lambda m: (
                "&amp;" + m.group()[1:] if html.unescape(m.group()) != m.group() else m.group()
            ),
            text,
        )
        parts[i] = text.replace("<", "&lt;").replace(">", "&gt;")
    return "".join(parts)


def description_text(posting: Posting) -> str:
    """The full description as plain text (for boards that forbid HTML, and length rules)."""
    return _plain(description_html(posting))
