"""ZipRecruiter: the Partner Job API, one job at a time.

Followed: ZipRecruiter's partner documentation (www.ziprecruiter.com/partner/documentation,
"Job API"), confirmed there:

* one endpoint, ``{base}/job`` (base ``https://api.ziprecruiter.com/partner/v0``): ``POST``
  creates a job from its JSON (the job, identified by ``job_id``, "cannot already exist"),
  ``PUT /job/{job_id}`` updates it, ``GET /job/{job_id}`` reads it, ``DELETE /job/{job_id}``
  closes it;
* a ``job_id`` in a URI is UTF-8 percent-encoded (every character outside the unreserved set);
* ``Authorization: Basic <api key>`` on every call, the key as ZipRecruiter issued it.

So our reference is the ``job_id``: a create is idempotent by it and a lookup is a ``GET`` of
it (``reconcile = LOOKUP``). A create answered "already exists" means the job with our id is
there (ours: nobody else uses our reference), open or closed: it is brought to the posting's
content with a ``PUT``, which also reopens a closed job (a reopened posting).

Not confirmed (the job model's section was not readable in any public copy we found): the
job fields' names and limits. The names below follow ZipRecruiter's own XML feed and apply
webhook vocabulary (``job_id``, ``job_title``, ``job_description``, ``apply_url``, city /
state / postal code / country, ``job_type``, pay) and should be checked against the partner
documentation on onboarding; a third-party summary of the current documentation says jobs
may be in the US, Canada or Australia, which the board rules enforce.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from publisher.boards import (
    ApiAdapter,
    BoardRules,
    BoardSettings,
    Posting,
    Receipt,
    Reconcile,
    RefreshPolicy,
    Tasks,
    description_html,
)

if TYPE_CHECKING:
    import httpx

JOB_TYPES = {
    "full_time": "full_time",
    "part_time": "part_time",
    "contract": "contractor",
    "temporary": "temporary",
    "internship": "internship",
    "per_diem": "per_diem",
    "volunteer": "other",
    "other": "other",
}


#: A create refused because a job with our ``job_id`` is there (any other refusal that
#: mentions existence, such as a category that does not exist, is a refusal).
ALREADY = re.compile(r"\balready exists?\b", re.IGNORECASE)


class ZipRecruiterSettings(BoardSettings):
    api_key_env: str = "ZIPRECRUITER_API_KEY"


class ZipRecruiterAdapter(ApiAdapter[ZipRecruiterSettings]):
    name = "ziprecruiter"
    rules = BoardRules(apply_url_required=True, countries=frozenset({"US", "CA", "AU"}))
    refresh_policy = RefreshPolicy()  # a job stays until it is closed
    default_base_url = "https://api.ziprecruiter.com/partner/v0"
    concurrency = 4
    rate_per_second = None  # not documented publicly
    reconcile = Reconcile.LOOKUP
    batch_size = 1
    tasks: ClassVar[Tasks | None] = None

    def to_payload(self, posting: Posting, ref: str | None = None) -> dict[str, Any]:
        place = posting.locations[0] if posting.locations else None
        body: dict[str, Any] = {
            "job_id": ref or f"jobpub-{posting.id}-{self.name}",
            "job_title": posting.title,
            "job_description": description_html(posting),
            "company_name": posting.company.name if posting.company else "",
            "apply_url": self.tagged(posting.apply.url or ""),
            "job_type": JOB_TYPES[posting.employment_type],
            "remote": posting.workplace == "remote",
        }
        if place is not None:
            body.update(
                city=place.city,
                state=place.region or "",
                country=place.country,
                postal_code=place.postal_code or "",
            )
        elif posting.remote_eligibility:
            body["country"] = posting.remote_eligibility[0].split("-")[0]
        if posting.salary is not None:
            pay = posting.salary
            body.update(
                salary_min=pay.min,
                salary_max=pay.max or pay.min,
                salary_currency=pay.currency,
                salary_interval=pay.period,
            )
        if posting.requisition_id:
            body["requisition_id"] = posting.requisition_id
        return body

    def _url(self, ref: str) -> str:
        return f"{self.base_url}/job/{quote(ref, safe='')}"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Basic {self.secret('api_key')}", "Accept": "application/json"}

    def _receipt(self, response: httpx.Response, ref: str) -> Receipt:
        data = self.json_object(response) if response.content else {}
        return Receipt(
            self.name,
            ref,
            board_id=str(data.get("job_id") or ref),
            url=data.get("url") or data.get("job_url"),
        )

    async def publish(self, posting: Posting, ref: str, *, key: str | None = None) -> Receipt:
        response = await self.client.post(
            f"{self.base_url}/job", headers=self._headers(), json=self.to_payload(posting, ref)
        )
        if response.status_code in (400, 409, 422) and ALREADY.search(response.text):
            return await self.update(posting, Receipt(self.name, ref), key=key)  # ours
        self.raise_for_status(response)
        return self._receipt(response, ref)

    async def update(
        self, posting: Posting, receipt: Receipt, *, key: str | None = None
    ) -> Receipt:
        ref = receipt.external_ref
        response = await self.client.put(
            self._url(ref), headers=self._headers(), json=self.to_payload(posting, ref)
        )
        self.raise_for_status(response)
        return self._receipt(response, ref)

    async def withdraw(self, receipt: Receipt, *, key: str | None = None) -> None:
        response = await self.client.delete(
            self._url(receipt.external_ref), headers=self._headers()
        )
        self.raise_for_status(response, missing_ok=True)  # already closed is fine

    async def lookup(self, ref: str) -> Receipt | None:
        response = await self.client.get(self._url(ref), headers=self._headers())
        if response.status_code in (404, 410):
            return None
        self.raise_for_status(response)
        data = self.json_object(response)
        if str(data.get("status", "open")).lower() in ("closed", "deleted", "expired"):
            return None
        return self._receipt(response, ref)
