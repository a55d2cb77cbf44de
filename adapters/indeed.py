"""Indeed: the Job Sync API (GraphQL), for ATS partners.

Followed: docs.indeed.com / docs-plus.indeed.com (job-sync-api-guide, the
``jobsIngest.createSourcedJobPostings`` mutation, ``CreateSourcedJobPostingInput``,
``UpdateSourcedJobPostingInput``, rate limiting, troubleshooting). Confirmed there:

* every call is ``POST https://apis.indeed.com/graphql`` with ``{query, operationName,
  variables}``; OAuth 2 client credentials, tokens of one hour; a 5-second client timeout;
* ``createSourcedJobPostings`` creates, upserts and reactivates, keyed by ``jobPostingId`` and
  ``sourceName``: every field is sent each time; it answers ``results[].jobPosting
  .sourcedPostingId`` (null for a rejected job, whose reason is in GraphQL ``errors`` inside
  an HTTP 200); the ``sourcedPostingId`` expires the job and may be new after a reactivation,
  so the latest one is kept;
* ``body``: ``title``, ``description`` (HTML with ``descriptionFormatting: RICH_FORMATTING``,
  at most 65,000 bytes), ``location`` {``country``, ``cityRegionPostal``}, ``benefits`` (a
  list, possibly empty), ``salary`` {``currency``, ``minimumMinor``, ``maximumMinor``,
  ``period``} in minor units and never 0; ``metadata``: ``jobPostingId``,
  ``jobRequisitionId``, ``datePublished``, ``url`` (the job page, whose details the description
  must match), ``jobSource`` {``companyName``, ``sourceName``, ``sourceType``};
* error codes (``extensions.code``): BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND,
  DOWNSTREAM_SERVICE_ERROR, INTERNAL_SERVER_ERROR; cost-based throttling fails calls with an
  HTTP status, retried like a 429. Title at most 75 characters (the update input's limit).

The create is an upsert by our reference, so a create whose answer was lost is sent again
(``reconcile = REPEAT``): Indeed keeps one job. A posting naming ``indeed`` and ``indeed_feed``
is refused (Indeed rejects a job it gets twice), and ``job_url`` must give the page the
posting's page board publishes.

Not confirmed: the token URL (``https://apis.indeed.com/oauth/v2/tokens``, from partners'
code) and the expire mutation's input (``{jobs: [{sourcedPostingId}]}``, likewise).
"""

from __future__ import annotations

from typing import Any, ClassVar

from publisher.boards import (
    ApiAdapter,
    BoardError,
    BoardRules,
    BoardSettings,
    OutcomeUnknown,
    Posting,
    Receipt,
    Reconcile,
    RefreshPolicy,
    Tasks,
    description_html,
)

CREATE = (
    "mutation CreateSourcedJobPostings($input: CreateSourcedJobPostingsInput) "
    "{ jobsIngest { createSourcedJobPostings(input: $input) "
    "{ results { jobPosting { sourcedPostingId } } } } }"
)
EXPIRE = (
    "mutation ExpireSourcedJobs($input: ExpireSourcedJobsBySourcedPostingIdInput) "
    "{ jobsIngest { expireSourcedJobsBySourcedPostingId(input: $input) "
    "{ results { trackingKey } } } }"
)
STATUS = {
    "BAD_USER_INPUT": 400,
    "NOT_FOUND": 404,
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "DOWNSTREAM_SERVICE_ERROR": 503,
    "INTERNAL_SERVER_ERROR": 500,
}
EXPONENT = {
    **dict.fromkeys(
        (
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}


class IndeedSettings(BoardSettings):
    token_url: str = "https://apis.indeed.com/oauth/v2/tokens"
    client_id_env: str = "INDEED_CLIENT_ID"
    client_secret_env: str = "INDEED_CLIENT_SECRET"
    source_name: str | None = None  # the unique name of this employer's jobs at Indeed
    source_type: str = "Employer"  # or "Job Board", "Staffing Agency"
    job_url: str | None = None  # the job page, with {id} (default: the apply URL)


def minor(amount: float, currency: str) -> int:
    """``amount`` in the currency's minor unit (cents, or yen as they are)."""
    scaled: float = amount * 10 ** EXPONENT.get(currency, 2)
    return round(scaled)


class IndeedAdapter(ApiAdapter[IndeedSettings]):
    name = "indeed"
    rules = BoardRules(
        title_max=75,
        description_max_bytes=65_000,
        max_locations=1,
        excludes=frozenset({"indeed_feed"}),
        same_job_page=True,
    )
    refresh_policy = RefreshPolicy()  # a job stays until it is expired
    default_base_url = "https://apis.indeed.com"
    concurrency = 4
    rate_per_second = None  # cost-based budget: throttled calls come back as 429
    timeout = 5.0  # Indeed: time out after 5,000 ms
    reconcile = Reconcile.REPEAT
    batch_size = 1  # Indeed allows 100 a request but recommends one
    tasks: ClassVar[Tasks | None] = None

    def missing_credentials(self) -> list[str]:
        missing = super().missing_credentials()
        return ["source_name", *missing] if not self.settings.source_name else missing

    def job_input(self, posting: Posting, ref: str) -> dict[str, Any]:
        place = posting.locations[0] if posting.locations else None
        if place is not None:
            where = {
                "country": place.country,
                "cityRegionPostal": " ".join(
                    p
                    for p in (
                        f"{place.city}," if place.region else place.city,
                        place.region,
                        place.postal_code,
                    )
                    if p
                ),
            }
        else:
            where = {
                "country": (posting.remote_eligibility or ["US"])[0][:2],
                "cityRegionPostal": "Remote",
            }
        body: dict[str, Any] = {
            "title": posting.title,
            "description": description_html(posting),
            "descriptionFormatting": "RICH_FORMATTING",
            "location": where,
            "benefits": list(posting.benefits),
        }
        if posting.salary is not None:
            pay = posting.salary
            body["salary"] = {
                "currency": pay.currency,
                "period": pay.period.upper(),
                "minimumMinor": minor(pay.min, pay.currency),
            }
            if pay.max:
                body["salary"]["maximumMinor"] = minor(pay.max, pay.currency)
        published = posting.publish_time() or self.clock()
        pattern = self.settings.job_url
        metadata: dict[str, Any] = {
            "jobPostingId": ref,
            "datePublished": min(published, self.clock()).strftime("%Y-%m-%dT%H:%MZ"),
            "url": pattern.format(id=posting.id)
            if pattern
            else self.tagged(posting.apply.url or ""),
            "jobSource": {
                "companyName": posting.company.name if posting.company else "",
                "sourceName": self.settings.source_name or "",
                "sourceType": self.settings.source_type,
            },
        }
        if posting.requisition_id:
            metadata["jobRequisitionId"] = posting.requisition_id
        return {"body": body, "metadata": metadata}

    def to_payload(self, posting: Posting, ref: str | None = None) -> dict[str, Any]:
        """The exact GraphQL request: the document, its operation and its variables."""
        job = self.job_input(posting, ref or f"jobpub-{posting.id}-{self.name}")
        return {
            "query": CREATE,
            "operationName": "CreateSourcedJobPostings",
            "variables": {"input": {"jobPostings": [job]}},
        }

    async def _graphql(self, request: dict[str, Any]) -> dict[str, Any]:
        """One GraphQL call; its ``data``, or the first error mapped like an HTTP status."""
        url = f"{self.base_url}/graphql"
        response = await self.client.post(url, json=request, auth=self.oauth)
        self.raise_for_status(response)
        answer = self.json_object(response)
        data = answer.get("data")
        return {
            "data": data if isinstance(data, dict) else {},
            "errors": [e for e in answer.get("errors") or [] if isinstance(e, dict)],
        }

    def _error(self, errors: list[dict[str, Any]]) -> BoardError:
        first = errors[0] if errors else {}
        code = str((first.get("extensions") or {}).get("code") or "")
        message = " ".join(str(first.get("message") or "rejected without a reason").split())
        return self.error_for(STATUS.get(code, 400), f"{code or 'error'}: {message}")

    async def publish(self, posting: Posting, ref: str, *, key: str | None = None) -> Receipt:
        answer = await self._graphql(self.to_payload(posting, ref))
        results = (
            (answer["data"].get("jobsIngest") or {}).get("createSourcedJobPostings") or {}
        ).get("results")
        if not isinstance(results, list) or len(results) != 1:
            if answer["errors"]:
                raise self._error(answer["errors"])
            raise OutcomeUnknown(self.name, "the answer holds no result for the job")
        job = results[0].get("jobPosting") if isinstance(results[0], dict) else None
        if not isinstance(job, dict) or not job.get("sourcedPostingId"):
            raise self._error(answer["errors"])  # rejected: its reason is in errors
        return Receipt(self.name, ref, board_id=str(job["sourcedPostingId"]))

    async def update(
        self, posting: Posting, receipt: Receipt, *, key: str | None = None
    ) -> Receipt:
        return await self.publish(posting, receipt.external_ref, key=key)  # upsert, all fields

    async def withdraw(self, receipt: Receipt, *, key: str | None = None) -> None:
        answer = await self._graphql(
            {
                "query": EXPIRE,
                "operationName": "ExpireSourcedJobs",
                "variables": {"input": {"jobs": [{"sourcedPostingId": receipt.board_id}]}},
            }
        )
        codes = {(e.get("extensions") or {}).get("code") for e in answer["errors"]}
        if answer["errors"] and codes != {"NOT_FOUND"}:  # expired already: fine
            raise self._error(answer["errors"])

    async def lookup(self, ref: str) -> Receipt | None:
        return None  # not by our reference: creates are upserts (reconcile = REPEAT)
