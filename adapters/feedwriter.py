"""One XML job-feed writer for the Indeed-style aggregators; each board is a small dialect.

A dialect names the root and job elements, the header elements, the date format and, for
each job element, which common field fills it (``"location/city"`` nests). Every value is
written as CDATA; Indeed's description with literal characters (no HTML entities but those
that keep text from becoming markup: publisher.render.literal_html).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from publisher.boards import (
    BoardSettings,
    FeedItem,
    FileAdapter,
    Posting,
    Problem,
    Receipt,
    Salary,
    description_html,
    literal_html,
    location_text,
    plain_text,
    salary_text,
    tag_url,
    xml_safe,
)

__all__ = ["Dialect", "FeedAdapter", "FeedSettings", "feed_records", "iso_date", "rfc822"]

_SLUG = re.compile(r"[^a-z0-9]+")
REMOTE = "Fully remote"  # the remote type of a job with no place of its own

EMPLOYMENT_WORDS = {
    "full_time": "full-time",
    "part_time": "part-time",
    "contract": "contract",
    "temporary": "temporary",
    "internship": "internship",
    "volunteer": "volunteer",
    "per_diem": "per diem",
    "other": "other",
}
CONTRACT_TYPES = {
    "full_time": "permanent",
    "part_time": "permanent",
    "contract": "contract",
    "temporary": "temporary",
    "internship": "internship",
    "volunteer": "volunteer",
    "per_diem": "temporary",
    "other": "",
}
HOURS = {"full_time": "full-time", "part_time": "part-time"}
EDUCATION_WORDS = {
    "none": "No degree required",
    "high_school": "High school",
    "associate": "Associate degree",
    "bachelor": "Bachelor's degree",
    "master": "Master's degree",
    "doctorate": "Doctorate",
    "professional": "Professional degree",
}


# Job dates arrive in the posting's own zone (FeedItem.local): Apply by 31 May in Denver is
# not 1 June. A feed's build date, which spans postings, stays in UTC.


def iso_date(when: datetime) -> str:
    """ISO 8601 with the offset, to the second ("Z" for UTC, a build date)."""
    text = when.isoformat(timespec="seconds")
    return text[:-6] + "Z" if when.tzinfo is UTC else text


def rfc822(when: datetime) -> str:
    """RFC 822: "GMT" for UTC (a build date), else the numeric offset ("-0600")."""
    from email.utils import format_datetime  # here: validate imports this module for its rules

    return format_datetime(when, usegmt=when.tzinfo is UTC)


def dotted_date(when: datetime) -> str:
    return when.strftime("%d.%m.%Y")


@dataclass(frozen=True)
class Dialect:
    """How one board names things: root, job element, header, dates and job fields."""

    root: str
    fields: tuple[tuple[str, str], ...]  # (element path, common field name)
    header: tuple[tuple[str, str], ...] = ()  # (element, "publisher"|"publisher_url"|"built")
    job: str = "job"
    id_attribute: str | None = None
    date: Callable[[datetime], str] = iso_date
    build_date: Callable[[datetime], str] = rfc822
    filename: str = "feed.xml"
    salary: Callable[[Salary], str] = salary_text
    #: Elements written even when empty for a fully remote job (Indeed asks for the
    #: location fields present and empty, with the remote type).
    remote_empty: frozenset[str] = frozenset()
    literal_html: bool = False  # the description with literal &, <, > (no entities)


class FeedSettings(BoardSettings):
    """Settings shared by every XML feed board."""

    output_dir: str = "public"
    job_url: str | None = None
    publisher: str | None = None
    publisher_url: str | None = None
    url_params: str | None = None


def _ref(posting: Posting, index: int) -> str:
    if len(posting.locations) <= 1:
        return posting.id
    loc = posting.locations[index]
    place = _SLUG.sub("-", f"{loc.city} {loc.region or loc.country}".lower()).strip("-")
    return f"{posting.id}--{place}"


def _job_url(posting: Posting, settings: FeedSettings) -> str:
    url = settings.job_url.format(id=posting.id) if settings.job_url else (posting.apply.url or "")
    if settings.url_params and url:
        url += ("&" if "?" in url else "?") + settings.url_params
    return url


def feed_records(item: FeedItem, settings: FeedSettings, dialect: Dialect) -> list[dict[str, str]]:
    """The common fields of one posting, one record per location (pure)."""
    posting = item.posting
    company = posting.company
    base: dict[str, str] = {
        "title": posting.title,
        "url": tag_url(_job_url(posting, settings), settings.tracking),
        "apply_url": tag_url(posting.apply.url or "", settings.tracking),
        "email": posting.apply.email or (company.email or "" if company else ""),
        "company": company.name if company else "",
        "company_url": (company.url or "") if company else "",
        "description": description_html(posting),
        "date": dialect.date(item.local(item.posted_at)) if item.posted_at else "",
        "updated": dialect.date(item.local(item.updated_at or item.posted_at))
        if item.posted_at
        else "",
        "expires": dialect.date(item.local(item.expires_at)) if item.expires_at else "",
        "salary": dialect.salary(posting.salary) if posting.salary else "",
        "jobtype": EMPLOYMENT_WORDS[posting.employment_type],
        "contract_type": CONTRACT_TYPES[posting.employment_type],
        "working_hours": HOURS.get(posting.employment_type, ""),
        "contract_time": HOURS.get(posting.employment_type, "").replace("-", "_"),
        "category": posting.category or posting.department or "",
        "education": EDUCATION_WORDS[posting.education] if posting.education else "",
        "experience": _experience(posting),
        "requisitionid": posting.requisition_id or posting.id,
        "remotetype": REMOTE
        if posting.workplace == "remote"
        else ("Hybrid remote" if posting.workplace == "hybrid" else ""),
    }
    base.update({key: plain_text(base[key]) for key in _PLAIN})
    if dialect.literal_html:  # never html.unescape: escaped text must not become markup
        base["description"] = literal_html(base["description"])
    if not posting.locations:  # fully remote: no city, state or postal code of its own
        countries = sorted({a.partition("-")[0] for a in posting.remote_eligibility})
        return [
            {
                **base,
                "ref": posting.id,
                "city": "",
                "state": "",
                "country": countries[0] if len(countries) == 1 else "",
                "postalcode": "",
                "street": "",
                "location": f"Remote ({', '.join(posting.remote_eligibility)})",
            }
        ]
    return [
        {
            **base,
            "ref": _ref(posting, index),
            "city": plain_text(loc.city),
            "state": loc.region or "",
            "country": loc.country,
            "postalcode": plain_text(loc.postal_code or ""),
            "street": plain_text(loc.street or ""),
            "location": plain_text(location_text(loc)),
        }
        for index, loc in enumerate(posting.locations)
    ]


#: Fields that are plain text (everything but the HTML description, URLs and codes).
_PLAIN = ("title", "company", "salary", "category", "email")


def _experience(posting: Posting) -> str:
    span = posting.experience
    if span is None or span.min_years is None:
        return f"up to {span.max_years} years" if span and span.max_years else ""
    if span.max_years is not None and span.max_years != span.min_years:
        return f"{span.min_years}-{span.max_years} years"
    return f"{span.min_years}+ years"


def _cdata(value: str) -> str:
    value = xml_safe(value)
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _element(path: str, value: str, indent: str) -> str:
    *parents, leaf = path.split("/")
    inner = f"<{leaf}>{_cdata(value)}</{leaf}>"
    for parent in reversed(parents):
        inner = f"<{parent}>{inner}</{parent}>"
    return indent + inner


def _job_xml(record: dict[str, str], dialect: Dialect) -> str:
    """One job; fields sharing a parent (``location/city``, ``location/region``) are
    written inside one parent element, in the order of their first field."""
    from xml.sax.saxutils import quoteattr  # here, as format_datetime above

    attr = f" {dialect.id_attribute}={quoteattr(record['ref'])}" if dialect.id_attribute else ""
    remote = record["remotetype"] == REMOTE  # fully remote: no place of its own
    shown = [
        (tag, record[key])
        for tag, key in dialect.fields
        if record[key] or (remote and tag in dialect.remote_empty)
    ]
    groups: dict[str, list[str]] = {}  # parent element (or "" + tag) -> its children
    for tag, value in shown:
        parent, _, leaf = tag.rpartition("/")
        groups.setdefault(parent or f"\0{tag}", []).append(f"<{leaf}>{_cdata(value)}</{leaf}>")
    lines = [f"  <{dialect.job}{attr}>"]
    lines += [
        f"    {''.join(parts)}"
        if name.startswith("\0")
        else f"    <{name}>{''.join(parts)}</{name}>"
        for name, parts in groups.items()
    ]
    lines.append(f"  </{dialect.job}>")
    return "\n".join(lines)


def render_feed(
    records: Sequence[dict[str, str]], settings: FeedSettings, dialect: Dialect, built_at: datetime
) -> bytes:
    header = {
        "publisher": settings.publisher or "",
        "publisher_url": settings.publisher_url or "",
        "built": dialect.build_date(built_at),
    }
    lines = ['<?xml version="1.0" encoding="utf-8"?>', f"<{dialect.root}>"]
    lines += [_element(tag, header[key], "  ") for tag, key in dialect.header if header[key]]
    lines += [_job_xml(record, dialect) for record in records]
    lines.append(f"</{dialect.root}>\n")
    return "\n".join(lines).encode("utf-8")


class FeedAdapter(FileAdapter[FeedSettings]):
    """Base of the XML feed boards: a dialect and, optionally, extra rules."""

    kind = "feed"
    settings_model: ClassVar[type[BoardSettings]] = FeedSettings
    dialect: ClassVar[Dialect]

    @property
    def feed_settings(self) -> FeedSettings:
        assert isinstance(self.settings, FeedSettings)
        return self.settings

    def to_payload(self, posting: Posting) -> list[dict[str, str]]:
        return feed_records(self.feed_item(posting), self.feed_settings, self.dialect)

    def render_preview(self, item: FeedItem) -> str:
        records = feed_records(item, self.feed_settings, self.dialect)
        return render_feed(
            records, self.feed_settings, self.dialect, item.posted_at or self.clock()
        ).decode()

    def render_files(
        self, live: Sequence[FeedItem], closed: Sequence[FeedItem], built_at: datetime
    ) -> dict[str, bytes]:
        records = [r for item in live for r in feed_records(item, self.feed_settings, self.dialect)]
        return {
            self.dialect.filename: render_feed(records, self.feed_settings, self.dialect, built_at)
        }

    def receipt(self, posting: Posting, ref: str) -> Receipt:
        return Receipt(
            self.name, ref, board_id=posting.id, url=_job_url(posting, self.feed_settings)
        )

    def extra_checks(self, posting: Posting) -> list[Any]:
        if not _job_url(posting, self.feed_settings):
            return [
                Problem(
                    "board-rule",
                    "the feed needs a job URL: set apply.url or the board's job_url setting",
                    ("apply",),
                )
            ]
        return []
