"""Google for Jobs: job pages with JobPosting JSON-LD, a sitemap, optional Indexing API pings.

Structured data: https://developers.google.com/search/docs/appearance/structured-data/job-posting
Indexing API: https://developers.google.com/search/apis/indexing-api/v3/using-api
Checked against Google's JobPosting documentation (and schema.org/JobPosting):

* ``description`` is HTML limited to the tags Google reads (p, ul, li, h1-h5, br, strong,
  em): links and any other tag are dropped from it, their text kept.
* ``applicantLocationRequirements``: a ``Country``, or a ``State`` with its
  ``containedInPlace`` Country (a state name alone is ambiguous).
* TELECOMMUTE only for fully remote jobs; dates ISO 8601 with the posting's offset.
* Every canonical field with a place in schema.org's JobPosting reaches it: ``skills``,
  ``totalJobOpenings`` (openings), ``occupationalCategory`` (category),
  ``hiringOrganization.department`` (department), ``experienceRequirements`` (minimum
  years), ``educationRequirements``, ``jobBenefits``, ``identifier`` (requisition id).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING, Any

from adapters.google_indexing import access_token
from publisher.boards import (
    AnnounceFailed,
    BoardError,
    BoardRules,
    BoardSettings,
    BoardUnavailable,
    FeedItem,
    FileAdapter,
    Posting,
    Problem,
    Receipt,
    RefreshPolicy,
    description_html,
    restrict_html,
    subdivision_name,
)

if TYPE_CHECKING:  # Jinja2 is loaded when a page is rendered, not when rules are checked
    from adapters.careers import Careers

EMPLOYMENT_TYPES = {
    "full_time": "FULL_TIME",
    "part_time": "PART_TIME",
    "contract": "CONTRACTOR",
    "temporary": "TEMPORARY",
    "internship": "INTERN",
    "volunteer": "VOLUNTEER",
    "per_diem": "PER_DIEM",
    "other": "OTHER",
}
EDUCATION = {
    "high_school": "high school",
    "associate": "associate degree",
    "bachelor": "bachelor degree",
    "master": "postgraduate degree",
    "doctorate": "postgraduate degree",
    "professional": "professional certificate",
}


GOOGLE_TAGS = frozenset({"p", "ul", "li", "h1", "h2", "h3", "h4", "h5", "br", "strong", "em"})


class GoogleSettings(BoardSettings):
    site_url: str | None = None  # public URL of a job page, with {id}
    output_dir: str = "public"
    direct_apply: bool = False  # true when the page itself takes applications
    indexing: bool = False  # ping the Indexing API after pages change
    service_account_env: str | None = None  # env var: path to the service-account JSON key
    token_url: str = "https://oauth2.googleapis.com/token"


class GoogleAdapter(FileAdapter[GoogleSettings]):
    name = "google"
    rules = BoardRules(title_max=200)
    refresh_policy = RefreshPolicy()  # a page stays as it is until it changes or ends
    default_base_url = "https://indexing.googleapis.com"
    daily_announcements = 200  # Indexing API default quota: publish calls per day
    quota_zone = "America/Los_Angeles"  # Google's quota day is Pacific time

    def url(self, posting_id: str) -> str:
        return (self.settings.site_url or "").format(id=posting_id)

    def extra_checks(self, posting: Posting) -> list[Problem]:
        if not self.settings.site_url or "{id}" not in self.settings.site_url:
            return [
                Problem(
                    "board-rule",
                    "set boards.google.site_url in config/jobpub.toml "
                    "to the job page URL, with {id}",
                    ("boards", "google"),
                    at_key=True,
                )
            ]
        return []

    @property
    def announces(self) -> bool:
        return self.settings.indexing

    def missing_credentials(self) -> list[str]:
        return super().missing_credentials() if self.announces else []

    def job_posting(self, item: FeedItem) -> dict[str, Any]:
        """The schema.org JobPosting for one posting (pure)."""
        posting = item.posting
        company = posting.company
        data: dict[str, Any] = {
            "@context": "https://schema.org/",
            "@type": "JobPosting",
            "title": posting.title,
            "description": restrict_html(description_html(posting), GOOGLE_TAGS),
            "identifier": {
                "@type": "PropertyValue",
                "name": company.name if company else "",
                "value": posting.requisition_id or posting.id,
            },
            "employmentType": EMPLOYMENT_TYPES[posting.employment_type],
            "directApply": self.settings.direct_apply,
            "url": self.url(posting.id),
        }
        if item.posted_at:  # ISO 8601 with the posting's own offset
            data["datePosted"] = item.local(item.posted_at).isoformat(timespec="seconds")
        if item.expires_at:
            data["validThrough"] = item.local(item.expires_at).isoformat(timespec="seconds")
        if company:
            data["hiringOrganization"] = {
                "@type": "Organization",
                "name": company.name,
                **({"sameAs": company.url} if company.url else {}),
                **({"logo": company.logo} if company.logo else {}),
                **(
                    {"department": {"@type": "Organization", "name": posting.department}}
                    if posting.department
                    else {}
                ),
            }
        if posting.locations:
            data["jobLocation"] = [
                {
                    "@type": "Place",
                    "address": {
                        "@type": "PostalAddress",
                        **{
                            k: v
                            for k, v in (
                                ("streetAddress", loc.street),
                                ("addressLocality", loc.city),
                                ("addressRegion", loc.region),
                                ("postalCode", loc.postal_code),
                                ("addressCountry", loc.country),
                            )
                            if v
                        },
                    },
                }
                for loc in posting.locations
            ]
        if posting.workplace == "remote":
            data["jobLocationType"] = "TELECOMMUTE"
        if posting.remote_eligibility:
            data["applicantLocationRequirements"] = [
                {
                    "@type": "State",
                    "name": subdivision_name(code),
                    "containedInPlace": {"@type": "Country", "name": code.partition("-")[0]},
                }
                if "-" in code
                else {"@type": "Country", "name": code}
                for code in posting.remote_eligibility
            ]
        if posting.salary:
            s = posting.salary
            value: dict[str, Any] = {"@type": "QuantitativeValue", "unitText": s.period.upper()}
            if s.max is None or s.max == s.min:
                value["value"] = s.min
            else:
                value.update(minValue=s.min, maxValue=s.max)
            data["baseSalary"] = {"@type": "MonetaryAmount", "currency": s.currency, "value": value}
        if posting.education in EDUCATION:
            data["educationRequirements"] = {
                "@type": "EducationalOccupationalCredential",
                "credentialCategory": EDUCATION[posting.education],
            }
        if posting.experience and posting.experience.min_years:
            data["experienceRequirements"] = {
                "@type": "OccupationalExperienceRequirements",
                "monthsOfExperience": posting.experience.min_years * 12,
            }
        if posting.benefits:
            data["jobBenefits"] = "; ".join(posting.benefits)
        if posting.skills:
            data["skills"] = ", ".join(posting.skills)
        if posting.openings > 1:
            data["totalJobOpenings"] = posting.openings
        if posting.category:
            data["occupationalCategory"] = posting.category
        return data

    def to_payload(self, posting: Posting) -> dict[str, Any]:
        return self.job_posting(self.feed_item(posting))

    def render_preview(self, item: FeedItem) -> str:
        return self.page(item).decode()

    @property
    def careers(self) -> Careers:
        from adapters.careers import Careers

        return Careers(self.site, self.url, self.tagged)

    def page(self, item: FeedItem) -> bytes:
        """The visible job page (adapters/careers.py): every JSON-LD fact is shown in words."""
        return self.careers.page(item, self.job_posting(item))

    def closed_page(self, posting: Posting) -> bytes:
        return self.careers.closed(posting)

    def render_files(
        self, live: Sequence[FeedItem], closed: Sequence[FeedItem], built_at: datetime
    ) -> dict[str, bytes]:
        files = {f"jobs/{i.posting.id}.html": self.page(i) for i in live}
        files.update({f"jobs/{i.posting.id}.html": self.closed_page(i.posting) for i in closed})
        files.update(self.careers.files(live, built_at))
        urls = "\n".join(
            f"  <url><loc>{escape(self.url(i.posting.id))}</loc>"
            f"<lastmod>{(i.updated_at or i.posted_at or built_at).date().isoformat()}</lastmod>"
            "</url>"
            for i in sorted(live, key=lambda i: i.posting.id)
        )
        files["sitemap.xml"] = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns='
            '"http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            f"{urls}\n</urlset>\n"
        ).encode()
        return files

    def receipt(self, posting: Posting, ref: str) -> Receipt:
        return Receipt(self.name, ref, board_id=posting.id, url=self.url(posting.id))

    async def announce(
        self, updated: Sequence[Posting], removed: Sequence[Posting], budget: int
    ) -> int:
        if not self.announces or budget <= 0 or not (updated or removed):
            return 0
        token = await access_token(self, self.settings.token_url)
        calls = [(p, "URL_UPDATED") for p in updated] + [(p, "URL_DELETED") for p in removed]
        sent = 0
        try:
            for posting, kind in calls[:budget]:
                response = await self.client.post(
                    f"{self.base_url}/v3/urlNotifications:publish",
                    json={"url": self.url(posting.id), "type": kind},
                    headers={"Authorization": f"Bearer {token}"},
                )
                self.raise_for_status(response)
                sent += 1
        except BoardError as exc:
            raise AnnounceFailed(exc, sent) from None
        except Exception as exc:  # the network: the calls made so far still count
            raise AnnounceFailed(BoardUnavailable(self.name, type(exc).__name__), sent) from None
        return sent
