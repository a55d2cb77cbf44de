"""The board SDK: everything a board plug-in uses, in one place.

A board is a subclass of :class:`ApiAdapter` (an HTTP API) or :class:`FileAdapter` (a page
or feed the engine writes), declared in the ``jobpub.boards`` entry-point group. Its
settings model is the base's generic parameter (``ApiAdapter[MySettings]``), its kind comes
from the base. It maps a :class:`Posting` to the board's request with the rendering helpers
below, raises the error tree's board errors, and never sleeps, retries, reads the time or
builds HTTP clients: the engine does (the adapter gets the engine's clock, client and, for
OAuth 2 client credentials, ``self.oauth``)."""

from __future__ import annotations

from publisher.adapter import (
    ApiAdapter,
    BoardAdapter,
    BoardRules,
    BoardSettings,
    ElementResult,
    FeedItem,
    FileAdapter,
    Receipt,
    Reconcile,
    RefreshPolicy,
    Submission,
    Tasks,
    external_ref,
    short_ref,
    tag_url,
)
from publisher.codes import country_name, subdivision_name
from publisher.config import Site
from publisher.errors import (
    AnnounceFailed,
    BoardAuthError,
    BoardError,
    BoardRejected,
    BoardUnavailable,
    NotOnBoard,
    OutcomeUnknown,
)
from publisher.problems import Problem
from publisher.redact import remember
from publisher.render import (
    amount,
    description_html,
    description_markdown,
    description_text,
    literal_html,
    location_text,
    markdown_html,
    plain_text,
    restrict_html,
    salary_text,
)
from publisher.schema import Location, Posting, Salary, xml_safe
from publisher.signing import hmac_signature

__all__ = [
    "AnnounceFailed",
    "ApiAdapter",
    "BoardAdapter",
    "BoardAuthError",
    "BoardError",
    "BoardRejected",
    "BoardRules",
    "BoardSettings",
    "BoardUnavailable",
    "ElementResult",
    "FeedItem",
    "FileAdapter",
    "Location",
    "NotOnBoard",
    "OutcomeUnknown",
    "Posting",
    "Problem",
    "Receipt",
    "Reconcile",
    "RefreshPolicy",
    "Salary",
    "Site",
    "Submission",
    "Tasks",
    "amount",
    "country_name",
    "description_html",
    "description_markdown",
    "description_text",
    "external_ref",
    "hmac_signature",
    "literal_html",
    "location_text",
    "markdown_html",
    "plain_text",
    "remember",
    "restrict_html",
    "salary_text",
    "short_ref",
    "subdivision_name",
    "tag_url",
    "xml_safe",
]
