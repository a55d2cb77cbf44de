"""The board adapter contract.

An adapter declares its ``name``, ``kind`` (``api``, ``feed`` or ``page``), a settings model,
its board rules as data and a pure ``to_payload(posting)``. API boards add async
``publish`` / ``update`` / ``refresh`` / ``withdraw`` / ``lookup``; feed and page boards
render their whole file set from the open postings. The core owns the HTTP client, timeouts,
retries, rate limits and file writing: adapters never sleep, retry or build clients.
"""

from __future__ import annotations

import functools
import json
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar, get_args
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from publisher import clock as _clock
from publisher.errors import (
    BoardAuthError,
    BoardError,
    BoardRejected,
    BoardUnavailable,
    ConfigError,
    NotOnBoard,
)
from publisher.problems import Problem
from publisher.schema import Posting

if TYPE_CHECKING:
    from typing import TypeAlias

    import httpx

    from publisher.config import Site

    #: An HTTP client, or a function making one when the adapter first needs it.
    ClientSource: TypeAlias = httpx.AsyncClient | Callable[[], httpx.AsyncClient] | None

__all__ = [
    "ApiAdapter",
    "BoardAdapter",
    "BoardRules",
    "BoardSettings",
    "ElementResult",
    "FeedItem",
    "FileAdapter",
    "Kind",
    "Receipt",
    "Reconcile",
    "RefreshPolicy",
    "Submission",
    "Tasks",
    "external_ref",
    "short_ref",
    "tag_url",
]

Kind = Literal["api", "feed", "page"]


class BoardSettings(BaseModel):
    """Base of every board's settings: unknown keys are rejected.

    Secrets are never values here: a setting ending in ``_env`` names the environment
    variable that holds the secret.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str | None = Field(default=None, description="API base URL (sandboxes, tests)")
    tracking: dict[str, str] = Field(
        default_factory=dict,
        description="query parameters added to the apply URL this board "
        'shows (e.g. utm_source = "jobboard"), so the employer sees which board brought whom',
    )


@dataclass(frozen=True)
class BoardRules:
    """A board's limits, declared as data and checked by :mod:`publisher.board_rules`."""

    title_max: int | None = None
    description_min: int | None = None  # characters the employer wrote (brief and lists)
    description_max: int | None = None
    description_max_bytes: int | None = None
    salary_required: bool = False
    apply_url_required: bool = False
    employment_types: frozenset[str] | None = None  # None: every canonical value
    workplaces: frozenset[str] | None = None
    countries: frozenset[str] | None = None
    max_locations: int | None = None
    html: bool = True  # the board accepts an HTML description
    #: Boards a posting must not name together with this one (the same board reached twice).
    excludes: frozenset[str] = frozenset()
    #: The board's job page (its ``job_url`` setting) must be the page a page board of the
    #: posting publishes (its ``site_url``): a board that checks the page against the posting.
    same_job_page: bool = False


@dataclass(frozen=True)
class RefreshPolicy:
    """How a board keeps listings fresh: a board that drops listings after a time (one after
    45 days, another after 42) renews them before that, never refuses a long posting.
    How long a posting without expires_at lives is one setting for every board
    (``default_duration_days`` in the config)."""

    every: timedelta | None = None
    max_refreshes: int | None = None
    #: The first renewal this long after posting, then every ``every`` (a board that keeps
    #: a job 180 days and extends it by 30 per renewal: first at 175 days, then every 28).
    first: timedelta | None = None

    def next_due(self, posted: datetime, refreshed: datetime | None) -> datetime | None:
        """When the next renewal is due (None: this board is never renewed)."""
        if self.every is None:
            return None
        return refreshed + self.every if refreshed else posted + (self.first or self.every)


@dataclass(frozen=True)
class Receipt:
    """What a board returned for a listing: its id and URL, and whether it is confirmed.

    ``task``: the board accepted the action and finishes it later (asynchronous results);
    the engine polls it with :meth:`ApiAdapter.poll` until it is done.
    """

    board: str
    external_ref: str
    board_id: str | None = None
    url: str | None = None
    pending: bool = False
    extra: Mapping[str, str] = field(default_factory=dict)
    task: str | None = None


class Reconcile(StrEnum):
    """How the engine learns whether a create whose answer was lost reached the board."""

    LOOKUP = "lookup"  # look the listing up by our reference (lookup())
    REPEAT = "repeat"  # send it again under the same idempotency key: the board dedupes
    UPDATE = "update"  # send an update: it fails if the board has no such listing (probe)
    #: Neither queried nor deduplicated by the board: a create of unknown fate is never sent
    #: again by itself; the listing fails asking a person to check the board first.
    MANUAL = "manual"


@dataclass(frozen=True)
class Tasks:
    """A board that finishes actions later: when to poll first, how far apart polls may
    grow (doubling from ``first_poll``), how long the board keeps a task (then the engine
    stops polling and reconciles), and how many tasks one poll may ask about."""

    first_poll: timedelta
    max_poll: timedelta
    lifetime: timedelta
    poll_size: int = 1

    def next_poll(self, polls: int) -> timedelta:
        grown: timedelta = self.first_poll * 2 ** min(max(0, polls), 20)
        return min(self.max_poll, grown)


@dataclass(frozen=True)
class Submission:
    """One element of a batch: the action on one listing, what is known of it and its key.
    ``probe``: the action is a create whose earlier answer was lost, on a board that
    reconciles by update (:attr:`Reconcile.UPDATE`)."""

    action: str  # post update refresh expire (ActionKind)
    posting: Posting
    receipt: Receipt
    key: str
    posted_at: datetime | None = None
    probe: bool = False


#: What a batch call returns for one element: its receipt, or its own error.
ElementResult = Receipt | BoardError


@dataclass(frozen=True)
class FeedItem:
    """A posting as a feed or page shows it: with the times the ledger knows."""

    posting: Posting
    posted_at: datetime | None
    expires_at: datetime | None
    updated_at: datetime | None = None

    def local(self, when: datetime) -> datetime:
        """``when`` in the posting's time zone: how a person or a board reads its dates."""
        return when.astimezone(ZoneInfo(self.posting.timezone or "UTC"))

    @classmethod
    def of(
        cls,
        posting: Posting,
        default_duration: timedelta,
        posted_at: datetime | None = None,
        updated_at: datetime | None = None,
    ) -> FeedItem:
        """Times from the posting itself, or from when it was first posted."""
        posted = posted_at or posting.publish_time()
        expires = posting.expiry_time() or (posted + default_duration if posted else None)
        return cls(posting, posted, expires, updated_at)


def tag_url(url: str, params: Mapping[str, str]) -> str:
    """``url`` with ``params`` added to its query (an empty URL, or no params: as it is)."""
    if not url or not params:
        return url
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update(params)
    return urlunsplit(parts._replace(query=urlencode(query)))


def short_ref(ref: str, limit: int) -> str:
    """``ref`` within a board's id limit: as it is when it fits, else its first characters
    and 16 hex of its SHA-256 (stable, and never another reference's in practice)."""
    if len(ref) <= limit:
        return ref
    import hashlib

    return f"{ref[: limit - 17]}-{hashlib.sha256(ref.encode()).hexdigest()[:16]}"


def external_ref(posting_id: str, board: str) -> str:
    """Our stable reference for a posting on a board: the key of every reconcile lookup."""
    return f"jobpub-{posting_id}-{board}"


S = TypeVar("S", bound=BoardSettings)


def _now() -> datetime:
    """The time when no engine hands the adapter its clock: publisher.clock.now, looked up
    at each call (a test may replace it after the adapter was made)."""
    return _clock.now()


class BoardAdapter(ABC, Generic[S]):
    """Base of every board adapter."""

    name: ClassVar[str]
    kind: ClassVar[Kind]
    settings_model: ClassVar[type[BoardSettings]]
    rules: ClassVar[BoardRules] = BoardRules()
    refresh_policy: ClassVar[RefreshPolicy] = RefreshPolicy()
    default_base_url: ClassVar[str | None] = None
    concurrency: ClassVar[int] = 4
    #: Seconds to wait for the board's answer, when the board asks for its own (None: the
    #: default; ``[limits.<board>] timeout`` overrides either).
    timeout: ClassVar[float | None] = None
    rate_per_second: ClassVar[float | None] = None
    #: How long a posting without expires_at lives (``default_duration_days``, handed to
    #: :meth:`make` by ``publisher.registry.Adapters`` from the config).
    default_duration: timedelta = timedelta(days=30)
    #: The careers site's branding (``[site]``, handed to :meth:`make` likewise).
    site: Site | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A board's settings model is its generic parameter (``ApiAdapter[MySettings]``),
        unless the class names one itself."""
        super().__init_subclass__(**kwargs)
        if "settings_model" in vars(cls):
            return
        for base in vars(cls).get("__orig_bases__", ()):
            found = get_args(base)
            if found and isinstance(found[0], type) and issubclass(found[0], BoardSettings):
                cls.settings_model = found[0]

    def __init__(
        self,
        settings: S,
        client: ClientSource = None,
        clock: Callable[[], datetime] | None = None,
        *,
        site: Site | None = None,
        default_duration: timedelta | None = None,
    ) -> None:
        self.settings = settings
        self._client = client
        if site is not None:
            self.site = site
        if default_duration is not None:
            self.default_duration = default_duration
        #: The time, as the engine running the adapter reads it (its fake clock in tests,
        #: publisher.clock.now by default): an adapter never reads the time otherwise.
        self.clock: Callable[[], datetime] = clock or _now

    @classmethod
    def make(
        cls,
        settings: Mapping[str, Any] | None = None,
        client: ClientSource = None,
        clock: Callable[[], datetime] | None = None,
        *,
        site: Site | None = None,
        default_duration: timedelta | None = None,
    ) -> BoardAdapter[Any]:
        """Build the adapter from raw settings (config table merged with overrides), with
        the engine's client source and clock, the careers site's branding (``[site]``) and
        how long a posting without expires_at lives (``default_duration_days``); what is
        not given keeps the class's default."""
        from pydantic import ValidationError

        try:
            parsed = cls.settings_model.model_validate(dict(settings or {}))
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in err["loc"])
            msg = "unknown setting" if err["type"] == "extra_forbidden" else err["msg"]
            raise ConfigError(f"boards.{cls.name}.{where}: {msg}") from None
        return cls(parsed, client, clock, site=site, default_duration=default_duration)  # type: ignore[arg-type]

    @property
    def client(self) -> httpx.AsyncClient:
        """The client the core gave (made on first use when it gave a factory)."""
        if self._client is None:
            raise ConfigError(f"{self.name}: no HTTP client was given to the adapter")
        if callable(self._client):
            self._client = self._client()
        return self._client

    def tagged(self, url: str) -> str:
        """``url`` with this board's tracking parameters."""
        return tag_url(url, self.settings.tracking)

    @property
    def base_url(self) -> str:
        return (self.settings.base_url or self.default_base_url or "").rstrip("/")

    def missing_credentials(self) -> list[str]:
        """Environment variables this board needs that are not set (names only)."""
        names = [str(v) for k, v in self.settings.model_dump().items() if k.endswith("_env") and v]
        return [name for name in names if not os.environ.get(name)]

    def secret(self, setting: str) -> str:
        """The value of the environment variable named by the ``<setting>_env`` setting."""
        from publisher.redact import remember

        env_name = getattr(self.settings, f"{setting}_env", None)
        value = os.environ.get(env_name) if env_name else None
        if not value:
            raise BoardAuthError(self.name, f"environment variable {env_name} is not set")
        remember(value)  # never stored or shown, even when a board echoes it back
        return value

    def operations(self) -> list[str]:
        """What the engine can ask of this board (shown by ``jobpub boards``)."""
        return []

    def extra_checks(self, posting: Posting) -> Iterable[Problem]:
        """Board rules that do not fit :class:`BoardRules` (rare)."""
        return ()

    @abstractmethod
    def to_payload(self, posting: Posting) -> Any:
        """What is sent to (or written for) the board: pure, no I/O, no clock."""

    def preview(self, posting: Posting) -> str:
        """Exactly what would be sent or written, as text."""
        return json.dumps(self.to_payload(posting), indent=2, ensure_ascii=False)

    def raise_for_status(self, response: httpx.Response, *, missing_ok: bool = False) -> None:
        """Map an HTTP status to the error tree (429/5xx retry, 401/403 auth, 4xx reject).
        ``missing_ok`` (a withdrawal): 404/410 say the job is not open there, which the
        engine counts as withdrawn (:class:`NotOnBoard`)."""
        status = response.status_code
        if status < 400:
            return
        if missing_ok and status in (404, 410):
            raise NotOnBoard(self.name, _reason(response), status)
        raise self.error_for(status, _reason(response), _retry_after(response))

    def error_for(
        self, status: int | None, reason: str, retry_after: float | None = None
    ) -> BoardError:
        """The error for a status: an HTTP answer's, or one element's inside a 200."""
        if status is not None and (status in (408, 425, 429) or status >= 500):
            return BoardUnavailable(self.name, reason, status, retry_after)
        if status in (401, 403):
            return BoardAuthError(self.name, reason, status)
        return BoardRejected(self.name, reason, status)

    def json_object(self, response: httpx.Response) -> dict[str, Any]:
        """A success body that must be a JSON object; anything else is a clear error (the
        board may have acted on the call, so its outcome is unknown)."""
        from publisher.errors import OutcomeUnknown

        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise OutcomeUnknown(
                self.name,
                f"the answer is not a JSON object (HTTP {response.status_code})",
                response.status_code,
            )
        return data


class ApiAdapter(BoardAdapter[S]):
    """A board reached through an HTTP API.

    Every action gets ``key``: the idempotency key of the unit of work it belongs to. The
    engine makes it once per change (``<ref>:<action>:r<revision>:<seq>``) and passes the
    same key to every retry and to a run that takes the work over after a crash; a board
    that dedupes deliveries (an ``Idempotency-Key`` header, a request id) should send it.

    Capabilities, declared as class attributes (the engine plans from them, ``jobpub
    boards`` shows them, the conformance kit checks each is implemented):

    * ``reconcile`` (:class:`Reconcile`): how a create whose outcome is unknown is settled;
      only ``LOOKUP`` boards are asked :meth:`lookup`, and "not found" is never "done";
    * ``batch_size``: more than 1 -> the engine sends due work in :meth:`submit` calls of
      up to that many elements (:meth:`elements` says how many a posting takes) and gets one
      result per submission;
    * ``tasks`` (:class:`Tasks`): the board answers with task ids and finishes later; the
      engine polls them with :meth:`poll`;
    * ``refresh_policy``: renewals (:meth:`refresh`).
    """

    kind: ClassVar[Kind] = "api"
    reconcile: ClassVar[Reconcile] = Reconcile.LOOKUP
    batch_size: ClassVar[int] = 1
    tasks: ClassVar[Tasks | None] = None

    @property
    def can_lookup(self) -> bool:
        return self.reconcile == Reconcile.LOOKUP

    @functools.cached_property
    def oauth(self) -> httpx.Auth:
        """OAuth 2 client credentials from the board's ``token_url``, ``client_id_env`` and
        ``client_secret_env`` settings: pass it with each call (``auth=self.oauth``); the
        token is fetched when needed, shared, and fetched again once on a 401."""
        from publisher.oauth import ClientCredentials  # (httpx: loaded only to call)

        return ClientCredentials.of(self)

    def operations(self) -> list[str]:
        ops = ["publish", "update", "refresh", "withdraw"]
        if self.can_lookup:
            ops.append("lookup")
        if self.batch_size > 1:
            ops.append(f"batch of {self.batch_size}")
        if self.tasks is not None:
            ops.append("poll tasks")
        return ops

    async def publish(self, posting: Posting, ref: str, *, key: str | None = None) -> Receipt:
        """Create the listing; ``ref`` is our external reference, sent with it (a batch board:
        a batch of one)."""
        if self.batch_size > 1:
            return await self._single(
                Submission("post", posting, Receipt(self.name, ref), key or "")
            )
        raise NotImplementedError(f"{self.name} does not implement publish()")

    async def update(
        self, posting: Posting, receipt: Receipt, *, key: str | None = None
    ) -> Receipt:
        """Change a live listing (default: send it again under the same reference; a batch
        board: an update in a batch of one)."""
        if self.batch_size > 1:
            return await self._single(Submission("update", posting, receipt, key or ""))
        return await self.publish(posting, receipt.external_ref, key=key)

    async def refresh(
        self, posting: Posting, receipt: Receipt, *, key: str | None = None
    ) -> Receipt:
        """Renew a live listing (default: an update; a batch board: a batch of one)."""
        if self.batch_size > 1:
            return await self._single(Submission("refresh", posting, receipt, key or ""))
        return await self.update(posting, receipt, key=key)

    async def withdraw(self, receipt: Receipt, *, key: str | None = None) -> None:
        """Close the listing; a listing already gone is not an error. (A batch board whose
        close carries the whole job closes through :meth:`submit`, with the posting.)"""
        raise NotImplementedError(f"{self.name} does not implement withdraw()")

    async def lookup(self, ref: str) -> Receipt | None:
        """Find our listing by external reference (reconcile after an unknown outcome);
        only ``reconcile = LOOKUP`` boards are asked."""
        if self.can_lookup:
            raise NotImplementedError(
                f"{self.name} declares reconcile = lookup but does not implement lookup()"
            )
        return None

    async def _single(self, sub: Submission) -> Receipt:
        (result,) = await self.submit([sub])
        if isinstance(result, BoardError):
            raise result
        return result

    def elements(self, posting: Posting) -> int:
        """How many batch elements this posting takes (a board job per location: more)."""
        return 1

    async def submit(self, batch: Sequence[Submission]) -> list[ElementResult]:
        """Send a batch: one result per submission, in order. An error of the whole call is
        raised; an element's own error is returned in its place.

        The engine sends every action through here. A board of ``batch_size`` 1 gets
        batches of one, which this default sends as the one call the action is
        (:meth:`publish`, :meth:`update`, :meth:`refresh` or :meth:`withdraw`; that call's
        error is the batch's); a batch board implements it."""
        if self.batch_size > 1:
            raise NotImplementedError(
                f"{self.name} declares batch_size = {self.batch_size} "
                "but does not implement submit()"
            )
        return [await self._one(sub) for sub in batch]

    async def _one(self, sub: Submission) -> Receipt:
        if sub.probe:  # a create of unknown fate, sent as an update of it
            return await self.update(sub.posting, sub.receipt, key=sub.key)
        if sub.action == "post":
            return await self.publish(sub.posting, sub.receipt.external_ref, key=sub.key)
        if sub.action == "update":
            return await self.update(sub.posting, sub.receipt, key=sub.key)
        if sub.action == "refresh":
            return await self.refresh(sub.posting, sub.receipt, key=sub.key)
        await self.withdraw(sub.receipt, key=sub.key)
        return sub.receipt

    async def poll(self, tasks: Sequence[str]) -> dict[str, ElementResult | None]:
        """Ask about tasks (``tasks`` declared): task -> its receipt once done, its error
        once failed, None while the board is still working on it (or does not say)."""
        raise NotImplementedError(f"{self.name} declares tasks but does not implement poll()")


class FileAdapter(BoardAdapter[S]):
    """A feed or page board: the whole file set is rendered from the open postings."""

    kind: ClassVar[Kind] = "page"  # (the feed boards' base says "feed")
    daily_announcements: ClassVar[int | None] = None  # quota for announce(), per day
    quota_zone: ClassVar[str] = "UTC"  # the time zone in which the board's quota day turns

    @property
    def announces(self) -> bool:
        """Whether :meth:`announce` does anything with the current settings."""
        return False

    def operations(self) -> list[str]:
        return ["write", "announce"] if self.announces else ["write"]

    def feed_item(self, posting: Posting, posted_at: datetime | None = None) -> FeedItem:
        """The posting with its times; without a ledger time, its own publish time."""
        return FeedItem.of(posting, self.default_duration, posted_at)

    def preview_item(self, posting: Posting) -> FeedItem:
        """As :meth:`feed_item`, posted now when the posting names no publish time."""
        from publisher import clock

        return self.feed_item(posting, posting.publish_time() or clock.now())

    def preview(self, posting: Posting, item: FeedItem | None = None) -> str:
        """What the board's files hold for this posting: with ``item``, the times the
        ledger recorded (so it is byte for byte what ``sync`` wrote)."""
        return self.render_preview(item or self.preview_item(posting))

    @abstractmethod
    def render_preview(self, item: FeedItem) -> str:
        """The posting as the files show it (its page, or a feed holding only it)."""

    @abstractmethod
    def render_files(
        self, live: Sequence[FeedItem], closed: Sequence[FeedItem], built_at: datetime
    ) -> dict[str, bytes]:
        """Relative path -> content for every file of the board (pure)."""

    @abstractmethod
    def receipt(self, posting: Posting, ref: str) -> Receipt:
        """What the ledger records for a posting present in the files (its URL)."""

    async def announce(
        self, updated: Sequence[Posting], removed: Sequence[Posting], budget: int
    ) -> int:
        """Tell the board about changed pages (an indexing ping); returns calls made."""
        return 0


def _reason(response: httpx.Response) -> str:
    try:
        body = response.text
    except Exception:  # body not read or not decodable
        body = ""
    body = " ".join(body.split())
    return (body[:300] + "...") if len(body) > 300 else (body or response.reason_phrase)


def _retry_after(response: httpx.Response) -> float | None:
    from publisher.retry import parse_retry_after

    return parse_retry_after(response.headers.get("Retry-After"))
