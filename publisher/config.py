"""`config/jobpub.toml`: company defaults, time zone, ledger URL and board settings.

The file is found from ``--config``, then ``JOBPUB_CONFIG``, then ``config/jobpub.toml`` in
the working directory; with none of them the embedded defaults apply. A broken file raises
:class:`~publisher.errors.ConfigError` naming the file, the line and the reason.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from publisher.errors import ConfigError
from publisher.problems import did_you_mean, format_path
from publisher.schema import Company, Posting, Text, TimeZoneName

__all__ = ["DEFAULT_PATH", "Config", "apply_defaults", "load_config"]

DEFAULT_PATH = Path("config/jobpub.toml")
ENV_VAR = "JOBPUB_CONFIG"


class Limits(BaseModel):
    """Per-board overrides of the engine's concurrency and rate limits."""

    model_config = ConfigDict(extra="forbid", strict=True)

    concurrency: int | None = Field(default=None, ge=1, le=100)
    rate_per_second: float | None = Field(default=None, gt=0)
    burst: int | None = Field(default=None, ge=1)
    timeout: float | None = Field(
        default=None,
        gt=0,
        le=300,
        description="seconds to wait for each read of the board's answer",
    )
    deadline: float | None = Field(
        default=None,
        gt=0,
        le=3600,
        description="seconds one board call may take in all "
        "(connect, send, every read); default 60, and below the lease less its renewal",
    )


#: The ledger when the config names none: created by sync under the project root.
DEFAULT_LEDGER = "sqlite:///.jobpub/ledger.db"


class EngineSettings(BaseModel):
    """How long claimed work is held, and how large a board's answer may be."""

    model_config = ConfigDict(extra="forbid", strict=True)

    lease_seconds: float = Field(
        default=300,
        gt=0,
        le=86_400,
        description="how long a worker holds claimed work "
        "before another may take it over; renewed every third of it while the work runs",
    )
    max_answer_bytes: int = Field(
        default=10_000_000,
        ge=1024,
        description="a board answer larger than this is cut off (its outcome counts as unknown)",
    )

    @property
    def renew_seconds(self) -> float:
        """How often a running worker renews its leases."""
        return self.lease_seconds / 3


class Employer(BaseModel):
    """Facts about the employer that decide which laws cover its postings (not a posting's
    business: one per config). Unknown size means covered."""

    model_config = ConfigDict(extra="forbid", strict=True)

    employees: int | None = Field(default=None, ge=0, description="people employed in all")
    employees_in: dict[str, int] = Field(
        default_factory=dict,
        description="per jurisdiction (US-MN = 35) for laws that count staff at local sites",
    )
    federal_contractor: bool = Field(
        default=False,
        description="a US federal contractor: ads must carry the VEVRAA / Section 503 sentence",
    )


class Site(BaseModel):
    """The careers site's branding (pages and index of the page board)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str | None = Field(
        default=None, description="shown in every page's header (default: [company] name)"
    )
    logo_url: str | None = Field(default=None, description="a square logo image")
    accent: str = Field(
        default="#0b5cad",
        pattern=r"^#[0-9a-fA-F]{6}$",
        description="links and buttons; keep 4.5:1 contrast with white",
    )
    base_url: str | None = Field(
        default=None,
        description="the site's public root, for "
        "the Atom feed's links (default: from the page URLs)",
    )
    footer: dict[str, str] = Field(default_factory=dict, description="footer links: label = URL")


class Web(BaseModel):
    """``jobpub serve``: where its users are (a file outside the repository)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    users_file: str | None = Field(
        default=None,
        description="users, roles and password hashes (jobpub users add); JOBPUB_USERS_FILE wins",
    )
    require_approval: bool = Field(
        default=False,
        description="a recruiter's change waits until a user with the approver role approves it",
    )
    git_commit: bool = Field(
        default=False,
        description="commit each saved posting file "
        "(in a git repository) with the recruiter as author",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="addresses or networks (CIDR) of reverse proxies "
        "whose X-Forwarded-For names the client; from anyone else the header is ignored",
    )
    public_url: str | None = Field(
        default=None,
        description="where users reach the app (https://...: the session cookie is then Secure)",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        import ipaddress

        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"'{item}' is not an address or network") from None
        return value


class Notify(BaseModel):
    """Who hears of incidents (a listing failed for good, a board refusing jobpub's
    credentials): a Slack-compatible incoming hook and/or e-mail. Secrets are named by *_env."""

    model_config = ConfigDict(extra="forbid", strict=True)

    webhook_url_env: str | None = Field(
        default=None,
        description='env var holding the incoming hook URL (Slack-compatible: {"text": ...})',
    )
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_starttls: bool = True
    smtp_user_env: str | None = None
    smtp_password_env: str | None = None
    email_from: str | None = None
    email_to: list[str] = Field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.webhook_url_env or (self.smtp_host and self.email_to))


RuleSetting = Literal["off", "warning", "error"]


class Config(BaseModel):
    """The whole configuration; every key is optional."""

    model_config = ConfigDict(extra="forbid", strict=True)

    timezone: TimeZoneName = Field(
        default="UTC", description="IANA time zone of postings that name none"
    )
    eeo_statement: Text | None = Field(
        default=None, description="EEO statement of postings that give none (Markdown)"
    )
    ledger: str = Field(
        default=DEFAULT_LEDGER,
        description="the ledger's database URL: SQLite or postgresql+psycopg:// "
        "(env JOBPUB_LEDGER overrides it)",
    )
    postings_dir: str = Field(default="postings", description="the folder of posting files")
    cache_dir: str = Field(
        default=".jobpub/cache",
        description="rendered descriptions kept by content hash between syncs (safe to delete)",
    )
    default_duration_days: int = Field(
        default=30,
        ge=1,
        le=365,
        description="how long a posting without expires_at stays up, on every board",
    )
    company: Company | None = Field(
        default=None, description="the company of postings that name none (name, url, logo)"
    )
    boards: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="[boards.NAME]: each board's settings (below)"
    )
    limits: dict[str, Limits] = Field(
        default_factory=dict, description="[limits.NAME]: a board's call limits (below)"
    )
    engine: EngineSettings = Field(default_factory=EngineSettings)
    employer: Employer = Field(default_factory=Employer)
    site: Site = Field(default_factory=Site)
    web: Web = Field(default_factory=Web)
    notify: Notify = Field(default_factory=Notify)
    rules: dict[str, RuleSetting] = Field(
        default_factory=dict, description="rule id -> off, warning or error"
    )

    @field_validator("rules")
    @classmethod
    def _known_rules(cls, value: dict[str, str]) -> dict[str, str]:
        from publisher.problems import RULES, did_you_mean

        for rule in value:
            if rule not in RULES:
                close = did_you_mean(rule, RULES)
                hint = f"did you mean '{close}'?" if close else "see jobpub rules"
                raise ValueError(f"unknown rule '{rule}' ({hint})")
        return value

    @model_validator(mode="after")
    def _deadlines_within_the_lease(self) -> Config:
        room = self.engine.lease_seconds - self.engine.renew_seconds
        for board, limits in self.limits.items():
            if limits.deadline is not None and limits.deadline >= room:
                raise ValueError(
                    f"limits.{board}.deadline = {limits.deadline:g} s: a board call must end "
                    f"within the lease less its renewal period ({room:g} s with "
                    f"engine.lease_seconds = {self.engine.lease_seconds:g}); lower it or "
                    "raise the lease"
                )
        return self

    def deadline(self, board: str) -> float:
        """Seconds one call to ``board`` may take in all (always below the lease less its
        renewal period, so a live worker's call ends before anyone may take its work)."""
        own = self.limits.get(board)
        if own is not None and own.deadline is not None:
            return own.deadline
        return min(60.0, self.engine.lease_seconds / 2)

    source: str | None = Field(default=None, exclude=True)
    root: str | None = Field(default=None, exclude=True)  # the project folder (see below)


def _find_line(text: str, loc: tuple[str | int, ...]) -> int | None:
    """Best-effort line of a dotted key in TOML source (tomllib keeps no positions)."""
    table: tuple[str, ...] = ()
    keys = [str(p) for p in loc]
    best: int | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        header = re.fullmatch(r"\[\[?\s*([^\]]+?)\s*\]\]?", line)
        if header:
            table = tuple(p.strip().strip("\"'") for p in header.group(1).split("."))
            if list(table) == keys[: len(table)] and best is None and len(table) == len(keys):
                best = number
            continue
        match = re.match(r"([A-Za-z0-9_\-\"'.]+)\s*=", line)
        if match:
            key = tuple(p.strip().strip("\"'") for p in match.group(1).split("."))
            if list((*table, *key)) == keys[: len(table) + len(key)]:
                return number
    return best


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Load the config from ``path``, ``$JOBPUB_CONFIG`` or the default location."""
    explicit = path or os.environ.get(ENV_VAR)
    source = Path(explicit) if explicit else DEFAULT_PATH
    if not source.exists():
        if explicit:
            raise ConfigError(f"config file not found: {source}", str(source))
        return _rooted(Config(), Path.cwd())
    try:
        text = source.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError:
        raise ConfigError("config file is not UTF-8", str(source)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read config: {exc.strerror}", str(source)) from None
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        line = int(match.group(1)) if match else None
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise ConfigError(f"invalid TOML: {reason}", str(source), line) from None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise _config_error(exc, (), text, source) from None
    _check_boards(config, text, source)
    folder = source.resolve().parent
    root = folder.parent if folder.name == "config" else folder
    return _rooted(config.model_copy(update={"source": str(source)}), root)


def ledger_url(config: Config) -> str:
    """The ledger every command opens: ``JOBPUB_LEDGER`` wins over the config's."""
    return os.environ.get("JOBPUB_LEDGER") or config.ledger


def _rooted(config: Config, root: Path) -> Config:
    """Paths in the config resolve against the project root, not the current folder: the
    folder above ``config/`` when the config is ``config/jobpub.toml``, otherwise the config
    file's own folder, and with no config file the current folder. Paths inside the current
    folder are kept relative to it (so validate prints ``postings/x.yaml`` for CI)."""

    def place(value: str) -> str:
        path = Path(value)
        if not path.is_absolute():
            path = root / path
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)

    from publisher.registry import boards as _boards

    boards = {}
    for name, table in config.boards.items():
        field = (
            _boards()[name].settings_model.model_fields.get("output_dir")
            if name in _boards()
            else None
        )
        if field is not None:
            table = {**table, "output_dir": place(str(table.get("output_dir", field.default)))}
        boards[name] = table
    ledger = config.ledger  # (read as text: validate must not load SQLAlchemy to parse it)
    if (
        ledger.startswith("sqlite:///")
        and not ledger.startswith("sqlite:////")
        and ledger != "sqlite:///:memory:"
    ):
        ledger = "sqlite:///" + str((root / ledger[len("sqlite:///") :]).resolve())
    return config.model_copy(
        update={
            "root": str(root),
            "boards": boards,
            "ledger": ledger,
            "postings_dir": place(config.postings_dir),
            "cache_dir": place(config.cache_dir),
        }
    )


def _config_error(
    exc: ValidationError, prefix: tuple[str | int, ...], text: str, source: Path
) -> ConfigError:
    first = exc.errors(include_url=False)[0]
    loc = (*prefix, *first["loc"])
    msg = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
    if first["type"] == "extra_forbidden":
        hint = did_you_mean(str(loc[-1]), _known_keys(exc.title))
        msg += f" (did you mean '{hint}'?)" if hint else ""
    return ConfigError(f"{format_path(loc)}: {msg}", str(source), _find_line(text, loc))


def _known_keys(model_name: str) -> list[str]:
    from publisher.registry import boards as _boards

    for cls in _boards().values():
        if cls.settings_model.__name__ == model_name:
            return list(cls.settings_model.model_fields)
    return []


def _check_boards(config: Config, text: str, source: Path) -> None:
    """Each ``[boards.X]`` table names a board and holds only that board's settings: one
    error against the config file and line, not one per posting that uses the board."""
    from publisher.registry import board_hint
    from publisher.registry import boards as _boards

    for name, table in config.boards.items():
        if name not in _boards():
            raise ConfigError(
                f"boards.{name}: no such board ({board_hint(name)})",
                str(source),
                _find_line(text, ("boards", name)),
            )
        try:
            _boards()[name].settings_model.model_validate(table)
        except ValidationError as exc:
            raise _config_error(exc, ("boards", name), text, source) from None


def apply_defaults(posting: Posting, config: Config) -> Posting:
    """Fill the company, EEO statement and time zone a posting leaves to the config."""
    update: dict[str, Any] = {}
    if posting.company is None and config.company is not None:
        update["company"] = config.company
    elif (
        posting.company is not None
        and posting.company.email is None
        and config.company is not None
        and config.company.email is not None
    ):
        # the config's contact address serves every posting that names none
        update["company"] = posting.company.model_copy(update={"email": config.company.email})
    if posting.eeo_statement is None and config.eeo_statement is not None:
        update["eeo_statement"] = config.eeo_statement
    if posting.timezone is None:
        update["timezone"] = config.timezone
    return posting.model_copy(update=update) if update else posting
