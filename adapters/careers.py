"""The careers site the page board writes: a page per job, an index of open jobs that filters
in the browser, closed-job pages, an Atom feed of new jobs, one stylesheet and one small
script — Jinja2 templates with autoescaping (``adapters/site/``), labels and dates in the
posting's language (en, de, fr, es; others in English), branding from ``[site]``.

Pure and deterministic: the same jobs give the same bytes. Facts are said in the words
people use (``Remote (United States)``, ``Full-time``, ``3 to 5 years``), each once.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache
from importlib.resources import files
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from publisher.boards import (
    FeedItem,
    Posting,
    Site,
    country_name,
    description_markdown,
    location_text,
    markdown_html,
    salary_text,
    subdivision_name,
    xml_safe,
)

ASSETS = ("site.css", "filter.js")


@cache
def _env() -> Environment:
    return Environment(
        loader=PackageLoader("adapters", "site"),
        trim_blocks=True,
        autoescape=select_autoescape(["html", "atom"]),
        keep_trailing_newline=True,
        finalize=_xml_safe,
    )


def _xml_safe(value: Any) -> Any:
    """Every value a page or feed shows, without characters XML forbids (a writer that
    meets one drops it rather than writing an invalid file)."""
    if isinstance(value, Markup):
        return Markup(xml_safe(str(value)))
    return xml_safe(value) if isinstance(value, str) else value


@cache
def _labels() -> dict[str, dict[str, Any]]:
    return tomllib.loads(files("adapters.site").joinpath("labels.toml").read_text("utf-8"))


def labels(language: str) -> dict[str, Any]:
    table = _labels()
    return table.get(language.split("-")[0], table["en"])


def say_date(when: datetime, t: dict[str, Any]) -> str:
    return str(t["date"]).format(day=when.day, month=t["months"][when.month - 1], year=when.year)


def where(posting: Posting, t: dict[str, Any], postal: bool = True) -> list[str]:
    """The places of a job as people say them (a remote job: the areas it is open to);
    ``postal``: with the postal code (the job page; the index filters by town)."""
    if posting.workplace == "remote":
        areas = [
            subdivision_name(a) if "-" in a else country_name(a) for a in posting.remote_eligibility
        ]
        return [str(t["remote_in"]).format(where=", ".join(areas))]
    return [
        " ".join(
            p
            for p in (
                location_text(loc).removesuffix(", US")
                if loc.country == "US"
                else f"{loc.city}, {country_name(loc.country)}",
                loc.postal_code if postal else "",
            )
            if p
        )
        for loc in posting.locations
    ]


def experience(posting: Posting, t: dict[str, Any]) -> str | None:
    years = posting.experience
    if years is None or years.min_years is None:
        return None
    if years.max_years and years.max_years > years.min_years:
        return str(t["years_range"]).format(a=years.min_years, b=years.max_years)
    return str(t["years_min"]).format(n=years.min_years)


class Careers:
    """Renders the site for one page board: its job URLs and apply-link tagging."""

    def __init__(
        self, site: Site | None, url: Callable[[str], str], tagged: Callable[[str], str]
    ) -> None:
        self.site = site or Site()
        self.url, self.tagged = url, tagged

    def _context(self, language: str, root: str, posting: Posting | None = None) -> dict[str, Any]:
        site = self.site
        company = posting.company.name if posting and posting.company else ""
        return {
            "lang": language,
            "root": root,
            "t": labels(language),
            "site": {
                "name": site.name or company,
                "logo_url": site.logo_url,
                "accent": site.accent,
                "footer": list(site.footer.items()),
                "base_url": self._base(),
            },
        }

    def _base(self) -> str:
        if self.site.base_url:
            return self.site.base_url.rstrip("/") + "/"
        sample = self.url("{id}")  # the site root: the page URL without jobs/<id>.html
        return sample.split("jobs/")[0] if "jobs/" in sample else ""

    def job(self, item: FeedItem, data: dict[str, Any]) -> dict[str, Any]:
        """A job as the pages show it, from the posting and its JSON-LD (same facts)."""
        posting, t = item.posting, labels(item.posting.language)
        facts: list[tuple[str, str]] = [
            (t["location"], "; ".join(where(posting, t))),
            (t["workplace"], t[posting.workplace]),
            (t["type"], t[posting.employment_type]),
            (t["pay"], salary_text(posting.salary) if posting.salary else ""),
            (t["posted"], say_date(item.local(item.posted_at), t) if item.posted_at else ""),
            (t["closes"], say_date(item.local(item.expires_at), t) if item.expires_at else ""),
            (t["department"], posting.department or ""),
            (t["experience"], experience(posting, t) or ""),
            (
                t["education"],
                t.get(
                    "none_required"
                    if posting.education == "none"
                    else "associate_degree"
                    if posting.education == "associate"
                    else posting.education or "",
                    "",
                ),
            ),
            (t["skills"], ", ".join(posting.skills)),
            (t["openings"], str(posting.openings) if posting.openings > 1 else ""),
            (t["reference"], posting.requisition_id or posting.id),
        ]
        if posting.workplace == "remote":
            facts.pop(1)  # "Remote (…)" already says it
        apply = (
            self.tagged(posting.apply.url) if posting.apply.url else f"mailto:{posting.apply.email}"
        )
        return {
            "id": posting.id,
            "title": posting.title,
            "url": data.get("url", ""),
            "summary": " ".join(posting.summary.split())[:155],
            "facts": [(k, v) for k, v in facts if v],
            "apply": apply,
            "apply_label": t["apply"] if posting.apply.url else t["apply_mail"],
            "description": markdown_html(description_markdown(posting, details=False)),
        }

    def page(self, item: FeedItem, data: dict[str, Any]) -> bytes:
        jsonld = (
            json.dumps(data, indent=2, ensure_ascii=False)  # inert inside <script>
            .replace("<", "\\u003c")
            .replace(">", "\\u003e")
            .replace("&", "\\u0026")
        )
        context = self._context(item.posting.language, "../", item.posting)
        html = (
            _env()
            .get_template("job.html")
            .render(job=self.job(item, data), jsonld=jsonld, **context)
        )
        return html.encode()

    def closed(self, posting: Posting) -> bytes:
        return (
            _env()
            .get_template("closed.html")
            .render(job={"title": posting.title}, **self._context(posting.language, "../", posting))
            .encode()
        )

    def _summary(self, item: FeedItem) -> dict[str, Any]:
        posting, t = item.posting, labels(item.posting.language)
        places = where(posting, t, postal=False)
        posted = item.posted_at or item.updated_at
        return {
            "id": posting.id,
            "title": posting.title,
            "url": self.url(posting.id),
            "department": posting.department or "",
            "workplace": t[posting.workplace],
            "places": places,
            "where": "; ".join(places),
            "type": t[posting.employment_type],
            "pay": salary_text(posting.salary) if posting.salary else "",
            "posted": say_date(item.local(posted), t) if posted else "",
            "posted_iso": posted.isoformat() if posted else "",
            "updated_iso": (item.updated_at or posted or datetime.min).isoformat(),
        }

    def index(self, live: Sequence[FeedItem], language: str = "en") -> bytes:
        jobs = [
            self._summary(i)
            for i in sorted(
                live, key=lambda i: (-(i.posted_at.timestamp() if i.posted_at else 0), i.posting.id)
            )
        ]
        t = labels(language)
        filters = [
            (
                key,
                t[label],
                sorted({v for j in jobs for v in (j[key] if key == "places" else [j[key]]) if v}),
            )
            for key, label in (
                ("department", "department"),
                ("places", "location"),
                ("workplace", "workplace"),
            )
        ]
        filters = [
            (("location" if k == "places" else k), label, values)
            for k, label, values in filters
            if values
        ]
        return (
            _env()
            .get_template("index.html")
            .render(
                jobs=jobs,
                filters=filters,
                **self._context(language, "", live[0].posting if live else None),
            )
            .encode()
        )

    def atom(self, live: Sequence[FeedItem], built_at: datetime, language: str = "en") -> bytes:
        jobs = [self._summary(i) for i in sorted(live, key=lambda i: i.posting.id)]
        return (
            _env()
            .get_template("jobs.atom")
            .render(
                jobs=jobs,
                updated=built_at.isoformat(),
                **self._context(language, "", live[0].posting if live else None),
            )
            .encode()
        )

    def files(self, live: Sequence[FeedItem], built_at: datetime) -> dict[str, bytes]:
        """The index, the Atom feed and the assets (the job pages are the board's)."""
        language = live[0].posting.language if live else "en"
        out = {
            "index.html": self.index(live, language),
            "jobs.atom": self.atom(live, built_at, language),
        }
        for name in ASSETS:
            out[f"assets/{name}"] = files("adapters.site").joinpath(name).read_bytes()
        return out
