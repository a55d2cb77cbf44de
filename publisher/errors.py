"""jobpub's errors, split by what the caller (CLI or engine) should do with them.

::

    PublisherError
    ├── ConfigError            bad config file or settings: exit 2, a person fixes it
    ├── UsageError             bad command-line use: exit 2
    ├── UnknownPosting         an ID the ledger does not know: exit 1
    ├── PostingInvalid         a posting fails validation: never published
    └── BoardError             a board call went wrong (carries board, status, reason)
        ├── BoardUnavailable   transient (429, 5xx, network): retry, honouring retry_after
        ├── BoardRejected      permanent: the board refused the content; do not retry
        ├── BoardAuthError     permanent: credentials or permissions; alert a person
        ├── AnnounceFailed     an indexing ping stopped partway (``sent`` calls went through)
        ├── OutcomeUnknown     the request may have been processed: reconcile before resending
        └── NotOnBoard         (a BoardRejected) the board has no open job by that id

    LeaseLost                  (not a PublisherError) this worker no longer holds the work
                               it was about to call a board for: nothing is sent
"""

from __future__ import annotations

__all__ = [
    "AnnounceFailed",
    "BoardAuthError",
    "BoardError",
    "BoardRejected",
    "BoardUnavailable",
    "ConfigError",
    "LeaseLost",
    "NotOnBoard",
    "OutcomeUnknown",
    "PostingInvalid",
    "PublisherError",
    "UnknownPosting",
    "UsageError",
]


class PublisherError(Exception):
    """Root of every error jobpub raises on purpose."""


class ConfigError(PublisherError):
    """The configuration (file or board settings) is unusable."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None):
        self.message = message
        self.file = file
        self.line = line
        where = f"{file}:{line}: " if file and line else (f"{file}: " if file else "")
        super().__init__(f"{where}{message}")


class UsageError(PublisherError):
    """The command line asks for something that cannot be done."""


class UnknownPosting(PublisherError):
    """A posting ID the ledger does not know (exit 1, like a failed lookup)."""


class PostingInvalid(PublisherError):
    """A posting has validation errors."""


class BoardError(PublisherError):
    """A board call failed. ``reason`` is the board's own words with every credential masked
    (:mod:`publisher.redact`): it is stored in the ledger and shown as it is."""

    def __init__(self, board: str, reason: str, status: int | None = None):
        from publisher.redact import redact

        self.board = board
        self.reason = reason = redact(reason)
        self.status = status
        code = f" (HTTP {status})" if status is not None else ""
        super().__init__(f"{board}{code}: {reason}")


class BoardUnavailable(BoardError):
    """Transient failure: safe to retry, after ``retry_after`` seconds when the board says."""

    def __init__(
        self, board: str, reason: str, status: int | None = None, retry_after: float | None = None
    ):
        super().__init__(board, reason, status)
        self.retry_after = retry_after


class BoardRejected(BoardError):
    """The board refused the posting; retrying the same request cannot help."""


class BoardAuthError(BoardError):
    """Credentials are missing, wrong or lack permission."""


class AnnounceFailed(BoardError):
    """Announcing page changes stopped partway: the first ``sent`` calls went through."""

    def __init__(self, cause: BoardError, sent: int):
        super().__init__(cause.board, cause.reason, cause.status)
        self.sent = sent


class OutcomeUnknown(BoardError):
    """The request may have reached the board: look the listing up before sending again."""


class NotOnBoard(BoardRejected):
    """The board has no open job by that id (never there, or closed there already): a
    withdrawal of it is done."""


class LeaseLost(Exception):
    """This worker's lease on the work passed to another worker (it was paused, or too
    slow, past it): the call is not made, and nothing it learned is recorded as the
    outcome. Deliberately not a :class:`PublisherError`: no handler of board errors may
    turn it into a retry or a failure."""
