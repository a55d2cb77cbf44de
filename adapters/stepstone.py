"""StepStone: the JobFeed push interface — StepStone XML sent by HTTP POST, one listing a call.

Followed: api.stepstone.com (feed-types, push, response, status-codes, the XML guides) and
StepStone's mapping as a multiposter documents it (kb.equest.com, StepStone_API). Confirmed:

* a POST of the XML as a form, with the customer's ``username`` and ``password`` (StepStone
  issues them) and ``xmlresponse=true`` for an XML answer;
* ``<jobfeed><joblisting reference_id=".." action="INSERT|UPDATE|OFFLINE">``, optional
  ``sender_id`` / ``organisation_id`` attributes (else StepStone maps the company from
  ``companydetails/companyname``); the text fields ``introduction``, ``tasks`` (mandatory),
  ``profile`` (mandatory), ``offer``, ``contact``;
* INSERT takes a credit; UPDATE is free within the validity and brings an OFFLINE listing back;
  a reference of an offline listing is never used for another listing;
* the answer: ``<jobfeedresponse>`` with ``reference``, ``listingid``, ``listingexpiration``,
  ``action`` (INSERT / UPDATE / IGNORE / OFFLINE), ``status``, ``statuscode``; codes 204-207,
  320 (title over 200 characters) and 331 are fixed and resent (permanent here); 209, 210,
  220, 222, 230, 312-315, 408 and 500 are resent once an hour (retry in an hour); 403: the
  feed is deprecated (contact StepStone).

StepStone cannot be queried (``reconcile = REPEAT``): it keys listings by ``reference_id``, so
an INSERT whose answer was lost is sent again under the same reference, and a repeat is
answered, not doubled. A posting published again after it went offline gets a new reference
(``<ref>.<n>``, ``n`` the publication's number), since StepStone never reuses one.

The pay goes into ``offer`` (no pay element is documented), so it reaches the listing.

Not confirmed: the interface URL (the ``url`` setting, required), the XML form field's name
(``xml``), the element names for the title and location (``title``, ``location`` with
``city`` / ``zipcode`` / ``country``), and the apply URL's (``applicationurl``).
"""

from __future__ import annotations

from typing import ClassVar
from xml.etree.ElementTree import Element, SubElement, tostring

from defusedxml.ElementTree import fromstring

from publisher.boards import (
    ApiAdapter,
    BoardRejected,
    BoardRules,
    BoardSettings,
    BoardUnavailable,
    OutcomeUnknown,
    Posting,
    Receipt,
    Reconcile,
    RefreshPolicy,
    Tasks,
    markdown_html,
    salary_text,
)

RESEND_HOURLY = {209, 210, 220, 222, 230, 312, 313, 314, 315, 408, 500}
OFFER_LINK = "https://www.stepstone.{site}/5/index.cfm?event=offerView.dspOfferInline&offerId="


class StepStoneSettings(BoardSettings):
    url: str | None = None  # the JobFeed interface StepStone gives the customer
    username_env: str = "STEPSTONE_USERNAME"
    password_env: str = "STEPSTONE_PASSWORD"
    sender_id: str | None = None  # else StepStone maps the company by its name
    organisation_id: str | None = None
    site: str = "de"  # the StepStone site of the offer links (de, at, be, fr, nl)


def _items(items: list[str]) -> str:
    return markdown_html("\n".join(f"- {i}" for i in items)) if items else ""


def reference(ref: str, key: str) -> str:
    """The reference of one publication: ``ref`` for the first, ``ref.<n>`` after that (the
    ``n`` of the work's key, ``<ref>:post:r<rev>:<n>``)."""
    seq = key.rsplit(":", 1)[-1].split("/")[0]
    return ref if not seq.isdigit() or int(seq) <= 1 else f"{ref}.{seq}"


class StepStoneAdapter(ApiAdapter[StepStoneSettings]):
    name = "stepstone"
    rules = BoardRules(title_max=200, apply_url_required=True, max_locations=1)
    refresh_policy = RefreshPolicy()  # online for the contract's validity, or until OFFLINE
    default_base_url = None  # the url setting
    concurrency = 2
    rate_per_second = None
    reconcile = Reconcile.REPEAT
    batch_size = 1
    tasks: ClassVar[Tasks | None] = None

    def missing_credentials(self) -> list[str]:
        return (
            ["url", *super().missing_credentials()]
            if not self.settings.url
            else super().missing_credentials()
        )

    def to_payload(self, posting: Posting, ref: str | None = None, action: str = "INSERT") -> str:
        """The XML document for one listing (what ``preview`` prints)."""
        attrs = {"reference_id": ref or f"jobpub-{posting.id}-{self.name}", "action": action}
        attrs.update(
            {
                k: v
                for k, v in (
                    ("sender_id", self.settings.sender_id),
                    ("organisation_id", self.settings.organisation_id),
                )
                if v
            }
        )
        feed = Element("jobfeed")
        job = SubElement(feed, "joblisting", attrs)
        if action != "OFFLINE":
            company = SubElement(job, "companydetails")
            SubElement(company, "companyname").text = (
                posting.company.name if posting.company else ""
            )
            SubElement(job, "title").text = posting.title
            texts = {
                "introduction": markdown_html(posting.summary),
                "tasks": _items(posting.responsibilities),
                "profile": _items(posting.qualifications + posting.preferred_qualifications),
                "offer": _items(posting.benefits)
                + (  # pay: no element of its own
                    f"<p>Pay: {salary_text(posting.salary)}</p>" if posting.salary else ""
                ),
                "contact": markdown_html(posting.apply.instructions or ""),
            }
            for tag, text in texts.items():
                SubElement(job, tag).text = text
            place = posting.locations[0] if posting.locations else None
            where = SubElement(job, "location")
            for tag, value in (
                ("city", place.city if place else ""),
                ("zipcode", place.postal_code if place else ""),
                ("country", place.country if place else ""),
            ):
                SubElement(where, tag).text = value or ""
            SubElement(job, "applicationurl").text = self.tagged(posting.apply.url or "")
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(feed, "unicode")

    def preview(self, posting: Posting) -> str:
        return self.to_payload(posting)

    async def _send(self, document: str) -> tuple[str, str]:
        """POST one document; the answer's listing id and expiry, or its status as an error."""
        form = {
            "username": self.secret("username"),
            "password": self.secret("password"),
            "xmlresponse": "true",
            "xml": document,
        }
        response = await self.client.post(self.settings.url or "", data=form)
        self.raise_for_status(response)
        try:
            answer = fromstring(response.content)
        except Exception:  # not XML, or XML defusedxml refuses (entities, DTDs)
            raise OutcomeUnknown(
                self.name, "the answer is not a StepStone XML response", response.status_code
            ) from None
        code, status = answer.findtext("statuscode") or "", (answer.findtext("status") or "")
        reason = f"StepStone status {code}: {' '.join(status.split())}"
        if not code.isdigit():
            raise OutcomeUnknown(self.name, "the answer carries no status code")
        if int(code) in RESEND_HOURLY:
            raise BoardUnavailable(self.name, reason, int(code), retry_after=3600.0)
        if int(code) != 100:
            raise BoardRejected(self.name, reason, int(code))
        return answer.findtext("listingid") or "", answer.findtext("reference") or ""

    def _receipt(self, ref: str, listing: str, sent: str) -> Receipt:
        return Receipt(
            self.name,
            ref,
            board_id=sent,
            url=OFFER_LINK.format(site=self.settings.site) + listing if listing.isdigit() else None,
        )

    async def publish(self, posting: Posting, ref: str, *, key: str | None = None) -> Receipt:
        sent = reference(ref, key or "")
        listing, _ = await self._send(self.to_payload(posting, sent, "INSERT"))
        return self._receipt(ref, listing, sent)

    async def update(
        self, posting: Posting, receipt: Receipt, *, key: str | None = None
    ) -> Receipt:
        sent = receipt.board_id or receipt.external_ref
        listing, _ = await self._send(self.to_payload(posting, sent, "UPDATE"))
        return self._receipt(receipt.external_ref, listing, sent)

    async def withdraw(self, receipt: Receipt, *, key: str | None = None) -> None:
        feed = Element("jobfeed")
        SubElement(
            feed,
            "joblisting",
            {"reference_id": receipt.board_id or receipt.external_ref, "action": "OFFLINE"},
        )
        await self._send(tostring(feed, "unicode"))

    async def lookup(self, ref: str) -> Receipt | None:
        return None  # StepStone cannot be queried (reconcile = REPEAT)
