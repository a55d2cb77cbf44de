"""Reed.co.uk: the Recruiter posting API, signed requests, UK jobs only.

Followed: www.reed.co.uk/developers/Recruiter and /developers/SignatureTest. Confirmed there:

* ``POST https://www.reed.co.uk/recruiter/api/1.0/jobs`` posts a job; bulk posters add each
  client's ``username`` (the account's e-mail) and ``postingKey``;
* every request carries ``X-ApiClientId``, ``X-Timestamp`` (UTC) and ``X-ApiSignature``: the
  Base64 HMAC-SHA1, under the API key, of METHOD + User-Agent + full URL + host (always
  ``www.reed.co.uk``) + the timestamp;
* required: ``username``, ``jobType`` (1 permanent, 2 contract, 4 temporary),
  ``workingHours`` (1 full time, 2 part time), ``title`` (<= 255, no HTML, e-mail addresses,
  URLs or phone numbers), ``description`` (150-6,500 characters, no e-mail addresses, URLs or
  phone numbers), ``townName`` (a UK town or postcode); optional ``productId``,
  ``expiryInDays`` (at most and by default 42), ``isDemo`` (a draft, for trials; posting only),
  ``isPublic``, ``isGraduate``; posting a job uses a credit.

The description sent to Reed leaves out e-mail addresses, URLs and phone numbers (the apply
details are Reed's own) instead of the posting being refused. A job lives at most 42 days: a
longer posting is re-posted before it lapses (the old job closed, a new one posted — a second
credit); ``repost = false`` lets it lapse instead (it stays ``live`` in jobpub until its end).

Reed cannot be queried by our reference and does not tell a repeated post from a new one, so a
post whose answer was lost is never sent again by itself (``reconcile = MANUAL``): the listing
fails asking a person to check Reed first.

Not confirmed: the edit and close verbs (``PUT`` and ``DELETE /jobs/{jobId}`` are used), the
answer's job id field (``jobId``), the timestamp's exact format (ISO 8601 UTC is sent), whether
parameters go as JSON (they do here), and the pay fields' names (pay is written into the text).
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any, ClassVar

from publisher.boards import (
    ApiAdapter,
    BoardAuthError,
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
    description_text,
    hmac_signature,
    plain_text,
    salary_text,
)

JOB_TYPES = {
    "full_time": 1,
    "part_time": 1,
    "contract": 2,
    "temporary": 4,
    "internship": 4,
    "per_diem": 4,
    "volunteer": 4,
    "other": 1,
}
CONTACT = re.compile(
    r"(?i)\b[\w.+-]+@[\w-]+(\.[\w-]+)+\b|\bhttps?://\S+|\bwww\.\S+"
    r"|(?<!\w)\+?\d[\d\s().-]{7,}\d"
)
USER_AGENT = "jobpub (+https://github.com/jobpub/jobpub)"


class ReedSettings(BoardSettings):
    client_id_env: str = "REED_CLIENT_ID"
    api_key_env: str = "REED_API_KEY"
    username: str | None = None  # the client's reed.co.uk account e-mail
    posting_key_env: str | None = None  # bulk posters: the client's posting key
    product_id: int | None = None  # the credit to use; else Reed picks
    demo: bool = False  # post drafts (isDemo), for trials
    repost: bool = True  # re-post a posting longer than 42 days (a new credit each time)
    signature_host: str = "www.reed.co.uk"


def without_contacts(text: str) -> str:
    """``text`` with e-mail addresses, URLs and phone numbers taken out."""
    return re.sub(r"[ \t]{2,}", " ", CONTACT.sub("", text)).strip()


class ReedAdapter(ApiAdapter[ReedSettings]):
    name = "reed"
    rules = BoardRules(
        title_max=255,
        description_min=150,
        description_max=6500,
        countries=frozenset({"GB"}),
        max_locations=1,
        html=False,
    )
    refresh_policy = RefreshPolicy(every=timedelta(days=41))  # re-posted before day 42
    default_base_url = "https://www.reed.co.uk/recruiter/api/1.0"
    concurrency = 2
    rate_per_second = None
    reconcile = Reconcile.MANUAL
    batch_size = 1
    tasks: ClassVar[Tasks | None] = None

    def missing_credentials(self) -> list[str]:
        missing = super().missing_credentials()
        return ["username", *missing] if not self.settings.username else missing

    def to_payload(self, posting: Posting) -> dict[str, Any]:
        place = posting.locations[0] if posting.locations else None
        text = description_text(posting)
        if posting.salary is not None:
            text += f"\n\nPay: {salary_text(posting.salary)}"
        body: dict[str, Any] = {
            "username": self.settings.username or "",
            "jobType": JOB_TYPES[posting.employment_type],
            "workingHours": 2 if posting.employment_type == "part_time" else 1,
            "title": without_contacts(plain_text(posting.title)),
            "description": without_contacts(text)[:6500],
            "townName": (place.postal_code or place.city) if place else "",
            "expiryInDays": 42,
            "isDemo": self.settings.demo,
        }
        if self.settings.product_id is not None:
            body["productId"] = self.settings.product_id
        return body

    def signed(self, method: str, url: str) -> dict[str, str]:
        """The headers that authenticate one request (the signature over its parts)."""
        stamp = self.clock().strftime("%Y-%m-%dT%H:%M:%SZ")
        message = f"{method}{USER_AGENT}{url}{self.settings.signature_host}{stamp}"
        return {
            "X-ApiClientId": self.secret("client_id"),
            "X-Timestamp": stamp,
            "X-ApiSignature": hmac_signature(
                self.secret("api_key"), message, digest="sha1", encoding="base64"
            ),
            "User-Agent": USER_AGENT,
        }

    def preview(self, posting: Posting) -> str:
        url = f"{self.base_url}/jobs"
        headers = {
            k: "[signed at send time]" for k in ("X-ApiClientId", "X-Timestamp", "X-ApiSignature")
        }
        return json.dumps(
            {"method": "POST", "url": url, "headers": headers, "body": self.to_payload(posting)},
            indent=2,
            ensure_ascii=False,
        )

    def _body(self, posting: Posting) -> dict[str, Any]:
        body = self.to_payload(posting)
        if self.settings.posting_key_env:
            body["postingKey"] = self.secret("posting_key")
        return body

    async def _call(self, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
        return await self.client.request(method, url, json=body, headers=self.signed(method, url))

    async def publish(self, posting: Posting, ref: str, *, key: str | None = None) -> Receipt:
        url = f"{self.base_url}/jobs"
        response = await self._call("POST", url, self._body(posting))
        self.raise_for_status(response)
        job_id = self.json_object(response).get("jobId")
        if not job_id:
            raise OutcomeUnknown(self.name, "the answer to a post names no jobId")
        return Receipt(
            self.name, ref, board_id=str(job_id), url=f"https://www.reed.co.uk/jobs/{job_id}"
        )

    async def update(
        self, posting: Posting, receipt: Receipt, *, key: str | None = None
    ) -> Receipt:
        body = {k: v for k, v in self._body(posting).items() if k != "isDemo"}
        response = await self._call("PUT", f"{self.base_url}/jobs/{receipt.board_id}", body)
        self.raise_for_status(response)
        return receipt

    async def refresh(
        self, posting: Posting, receipt: Receipt, *, key: str | None = None
    ) -> Receipt:
        """Before day 42: close the job and post it again (a new credit), or let it lapse."""
        if not self.settings.repost:
            return receipt
        await self.withdraw(receipt, key=key)
        try:
            return await self.publish(posting, receipt.external_ref, key=key)
        except (BoardRejected, BoardUnavailable, BoardAuthError):
            raise  # Reed answered: nothing was posted
        except Exception:  # the answer was lost: a repeat could post it twice
            raise BoardRejected(
                self.name,
                "the re-post may have reached Reed: check the board, "
                "then run jobpub sync --retry-failed",
            ) from None

    async def withdraw(self, receipt: Receipt, *, key: str | None = None) -> None:
        response = await self._call("DELETE", f"{self.base_url}/jobs/{receipt.board_id}")
        self.raise_for_status(response, missing_ok=True)  # closed already: fine

    async def lookup(self, ref: str) -> Receipt | None:
        return None  # Reed cannot be queried by our reference (reconcile = MANUAL)
