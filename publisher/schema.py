"""The canonical posting: one pydantic model of a `postings/<id>.yaml` file.

The model is strict: unknown keys are errors, and nothing is coerced (a YAML ``NO`` stays the
string ``"NO"``, ``yes`` is not a boolean, a postal code must be a string). Cross-field checks
(salary range, dates, remote eligibility) live in :mod:`publisher.rules` so that each is
reported under its own rule id.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_core.core_schema import ValidationInfo

from publisher import codes

__all__ = [
    "NO_CONTROLS",
    "STORED",
    "XML_FORBIDDEN",
    "Apply",
    "Company",
    "Disclosures",
    "Education",
    "EmploymentType",
    "Experience",
    "Location",
    "Posting",
    "Salary",
    "SalaryPeriod",
    "Seniority",
    "When",
    "Workplace",
    "end_of",
    "start_of",
    "xml_safe",
]

EmploymentType = Literal[
    "full_time",
    "part_time",
    "contract",
    "temporary",
    "internship",
    "volunteer",
    "per_diem",
    "other",
]
Workplace = Literal["onsite", "hybrid", "remote"]
Seniority = Literal["internship", "entry", "associate", "mid_senior", "director", "executive"]
Education = Literal[
    "none", "high_school", "associate", "bachelor", "master", "doctorate", "professional"
]
SalaryPeriod = Literal["hour", "day", "week", "month", "year"]
Status = Literal["open", "closed"]

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_EMAIL_RE = re.compile(r"[^@\s<>()\[\],;:\"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def _check(ok: bool, kind: str, message: str, **ctx: Any) -> None:
    if not ok:
        raise PydanticCustomError(kind, message, ctx)


def _country(value: str) -> str:
    _check(
        codes.is_country(value),
        "country_code",
        "'{value}' is not an ISO 3166-1 alpha-2 country code (e.g. US, DE, NO)",
        value=value,
    )
    return value


def _area(value: str) -> str:
    ok = codes.is_country(value) if len(value) == 2 else codes.is_subdivision(value)
    _check(
        ok,
        "area_code",
        "'{value}' is not an ISO 3166-1 country (US) or ISO 3166-2 subdivision (US-CO) code",
        value=value,
    )
    return value


def _currency(value: str) -> str:
    _check(
        codes.is_currency(value),
        "currency_code",
        "'{value}' is not an ISO 4217 currency code (e.g. USD, EUR)",
        value=value,
    )
    return value


def _language(value: str) -> str:
    _check(
        codes.is_language(value),
        "language_code",
        "'{value}' is not an ISO 639-1 language code (e.g. en, de)",
        value=value,
    )
    return value


def _timezone(value: str) -> str:
    _check(
        codes.is_timezone(value),
        "timezone",
        "'{value}' is not an IANA time zone (e.g. America/Denver, Europe/Berlin, UTC)",
        value=value,
    )
    return value


def _has_host(value: str) -> bool:
    """Whether a URL that starts with ``http://`` or ``https://`` and has no white space (the
    fields' patterns and validators see to both) names a host: the first character after
    ``//`` starts one unless it is a ``/``, ``?`` or ``#``. (urlsplit's answer, without its
    cost; it still decides, and refuses, a URL with brackets, which may be an IPv6 address.)"""
    if "[" in value or "]" in value:
        return bool(urlsplit(value).netloc)
    return value.partition("://")[2][:1] not in ("", "/", "?", "#")


def _https_url(value: str) -> str:
    _check(
        value.startswith("https://") and _has_host(value) and " " not in value,
        "https_url",
        "'{value}' is not an https:// URL",
        value=value,
    )
    return value


def _http_url(value: str) -> str:
    _check(
        value.startswith(("http://", "https://")) and _has_host(value) and " " not in value,
        "http_url",
        "'{value}' is not an http(s):// URL",
        value=value,
    )
    return value


def _email(value: str) -> str:
    _check(
        _EMAIL_RE.fullmatch(value) is not None,
        "email",
        "'{value}' is not an e-mail address",
        value=value,
    )
    return value


#: Dates a posting may name: wide enough for any job, far enough from the calendar's ends
#: that no time zone can push them out of range (9999-12-31 in Etc/GMT+12 is year 10000 UTC).
EARLIEST, LATEST = date(2000, 1, 1), date(2199, 12, 31)


def _in_range(value: date) -> None:
    if not EARLIEST <= value <= LATEST:  # the message's dates written only when it is said
        _check(
            False,
            "when_range",
            "{value} is out of range: dates must lie between {earliest} and {latest}",
            value=value.isoformat(),
            earliest=EARLIEST.isoformat(),
            latest=LATEST.isoformat(),
        )


#: Characters XML 1.0 forbids (C0 controls but tab, LF and CR; surrogates; U+FFFE, U+FFFF),
#: and DEL: none may reach a page or feed. ``validate`` refuses them at their line
#: (publisher.rules.check_characters); the model drops any that come another way.
XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_CONTROLS = XML_FORBIDDEN


def xml_safe(text: str) -> str:
    """``text`` without the characters XML forbids (what a writer meets anyway)."""
    return XML_FORBIDDEN.sub("", text) if XML_FORBIDDEN.search(text) else text


def _strip_controls(value: Any) -> Any:
    if isinstance(value, str):
        return _CONTROLS.sub("", value) if _CONTROLS.search(value) else value
    if isinstance(value, dict):
        return {k: _strip_controls(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_controls(v) for v in value]
    return value


def _when(value: object) -> object:
    """Parse a date or an offset-carrying date-time; refuse naive date-times and dates out
    of range."""
    if isinstance(value, datetime):
        _check(
            value.tzinfo is not None,
            "naive_datetime",
            "date-time has no UTC offset: add one (e.g. 2026-01-31T09:00:00-07:00) or give a date",
        )
        _in_range(value.date())
        return value
    if isinstance(value, date):
        _in_range(value)
        return value
    if not isinstance(value, str):
        raise PydanticCustomError(
            "when_type",
            "expected a date (2026-01-31) or a date-time with offset "
            "(2026-01-31T09:00:00-07:00), got {value}",
            {"value": repr(value)},
        )
    try:
        parsed = (
            date.fromisoformat(value)
            if _DATE_RE.fullmatch(value)
            else datetime.fromisoformat(value)
        )
    except ValueError:
        raise PydanticCustomError(
            "when",
            "'{value}' is not a date (2026-01-31) or a date-time with offset "
            "(2026-01-31T09:00:00-07:00)",
            {"value": value},
        ) from None
    if not isinstance(parsed, datetime):
        _in_range(parsed)
        return parsed
    _check(
        parsed.tzinfo is not None,
        "naive_datetime",
        "'{value}' has no UTC offset: add one (e.g. -07:00 or Z) or give a date only",
        value=value,
    )
    _in_range(parsed.date())
    return parsed


Text = Annotated[str, Field(min_length=1, pattern=r"\S")]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
#: A posting id as a whole (what Slug accepts), for file names and ``jobpub new``.
ID_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
REGION_RE = r"^[A-Z0-9]{1,3}$"
_REGION = re.compile(REGION_RE)
BoardName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$"), AfterValidator(_country)]
AreaCode = Annotated[str, Field(pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$"), AfterValidator(_area)]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$"), AfterValidator(_currency)]
LanguageCode = Annotated[str, Field(pattern=r"^[a-z]{2}$"), AfterValidator(_language)]
TimeZoneName = Annotated[str, Field(min_length=1), AfterValidator(_timezone)]
HttpsUrl = Annotated[str, Field(pattern=r"^https://\S+$"), AfterValidator(_https_url)]
HttpUrl = Annotated[str, Field(pattern=r"^https?://\S+$"), AfterValidator(_http_url)]
Email = Annotated[str, Field(pattern=r"^\S+@\S+$"), AfterValidator(_email)]
When = Annotated[
    datetime | date,
    BeforeValidator(_when),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
                {
                    "type": "string",
                    "format": "date-time",
                    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?"
                    r"(Z|[+-]\d{2}:\d{2})$",
                },
            ]
        }
    ),
]
Amount = Annotated[float, Field(allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Company(_Strict):
    """The hiring organization."""

    name: Annotated[Text, Field(max_length=200)]
    url: HttpUrl | None = None
    logo: HttpsUrl | None = Field(default=None, description="https URL of a square logo image")
    email: Email | None = Field(
        default=None,
        description="a contact address for boards that want one on every job "
        "(some feeds require one), used when the posting's apply "
        "has no e-mail",
    )


class Location(_Strict):
    """A work location. ``country`` is validated before ``region``, which depends on it."""

    country: CountryCode = Field(description="ISO 3166-1 alpha-2 country code")
    city: Text
    region: Annotated[str, Field(min_length=1, max_length=3, pattern=REGION_RE)] | None = Field(
        default=None, description="state/province code, e.g. CO (ISO 3166-2 suffix)"
    )
    postal_code: Text | None = Field(default=None, description="a string: quote numeric codes")
    street: Text | None = None

    @field_validator("region", mode="before")
    @classmethod
    def _region_by_name(cls, value: object, info: ValidationInfo) -> object:
        """``region: Ohio`` is a name: say which code it has."""
        country = info.data.get("country")
        if isinstance(value, str) and country and not _REGION.fullmatch(value):
            code = codes.subdivision_code(country, value)
            _check(
                code is None,
                "region_name",
                "'{value}' is a region name: use its code, {code} (ISO 3166-2 {country}-{code})",
                value=value,
                code=code or "",
                country=country,
            )
        return value

    @field_validator("region")
    @classmethod
    def _region_in_country(cls, value: str | None, info: ValidationInfo) -> str | None:
        country = info.data.get("country")
        if value is not None and country and codes.has_subdivisions(country):
            _check(
                codes.is_subdivision(f"{country}-{value}"),
                "region_code",
                "'{value}' is not a region of {country} (ISO 3166-2 {country}-{value} "
                "does not exist)",
                value=value,
                country=country,
            )
        return value


class Salary(_Strict):
    """Pay range. Amounts are checked (positive, min <= max) by the ``salary`` rule."""

    min: Amount
    max: Amount | None = None
    currency: CurrencyCode
    period: SalaryPeriod


class Experience(_Strict):
    """Years of experience asked for."""

    min_years: Annotated[int, Field(ge=0, le=60)] | None = None
    max_years: Annotated[int, Field(ge=0, le=60)] | None = None


class Disclosures(_Strict):
    """Statements some laws want in the posting itself (Ontario from 2026: whether AI screens,
    assesses or selects applicants, and whether the posting is for an existing vacancy)."""

    ai_screening: bool | None = Field(
        default=None,
        description="true if artificial intelligence is used to screen, assess "
        "or select applicants",
    )
    existing_vacancy: bool | None = Field(
        default=None,
        description="true if the posting is for a vacancy that exists now "
        "(false: recruiting for future openings)",
    )


class Apply(_Strict):
    """How to apply: a URL (https) or an e-mail address, and optional instructions."""

    url: HttpsUrl | None = None
    email: Email | None = None
    instructions: Text | None = None

    @model_validator(mode="after")
    def _needs_target(self) -> Apply:
        _check(
            self.url is not None or self.email is not None,
            "apply_target",
            "apply needs a url (https://...) or an email",
        )
        return self


#: The validation context of a posting read back from the ledger (see Posting).
STORED: dict[str, bool] = {"stored": True}
#: The validation context of data loaded from YAML text without a backslash: it has no
#: escapes, and the parsers refuse raw control characters, so none of its strings holds one.
NO_CONTROLS: dict[str, bool] = {"no_controls": True}


class Posting(_Strict):
    """One job posting, exactly as the posting file describes it."""

    @model_validator(mode="before")
    @classmethod
    def _without_controls(cls, data: Any, info: ValidationInfo) -> Any:
        """C0 control characters (a NUL from a YAML escape, say) mean nothing to a reader
        and break pages and feeds: they are dropped from every text (tab and newline stay).
        Content read back from the ledger (context :data:`STORED`) had them dropped when it
        was recorded; data from text without escapes (:data:`NO_CONTROLS`) has none."""
        return (
            data if info.context is STORED or info.context is NO_CONTROLS else _strip_controls(data)
        )

    id: Slug = Field(description="stable identity; equals the file name without .yaml")
    title: Annotated[Text, Field(max_length=200)] = Field(
        description="job title only (no location, salary or codes)"
    )
    status: Status = "open"
    company: Company | None = Field(
        default=None, description="required unless [company] is set in config/jobpub.toml"
    )
    department: Text | None = None
    reports_to: Text | None = None
    requisition_id: Annotated[Text, Field(max_length=100)] | None = None
    openings: Annotated[int, Field(ge=1)] = 1
    language: LanguageCode = "en"
    category: Text | None = None
    seniority: Seniority | None = None
    skills: list[Text] = Field(default_factory=list)
    employment_type: EmploymentType
    workplace: Workplace = Field(description="remote = fully remote")
    locations: list[Location] = Field(default_factory=list)
    remote_eligibility: list[AreaCode] = Field(
        default_factory=list, description="where remote applicants may live: US or US-CO codes"
    )
    travel: Text | None = None
    salary: Salary | None = None
    experience: Experience | None = None
    education: Education | None = None
    summary: Text = Field(description="the job brief (Markdown)")
    responsibilities: Annotated[list[Text], Field(min_length=1)]
    qualifications: Annotated[list[Text], Field(min_length=1)]
    preferred_qualifications: list[Text] = Field(default_factory=list)
    benefits: list[Text] = Field(default_factory=list)
    work_environment: Text | None = None
    eeo_statement: Text | None = None
    disclosures: Disclosures | None = Field(
        default=None,
        description="statements the law asks for (AI screening, existing "
        "vacancy); shown in the description",
    )
    apply: Apply
    publish_at: When | None = Field(default=None, description="a date means 00:00 in timezone")
    expires_at: When | None = Field(
        default=None, description="a date means the end of that day in timezone"
    )
    timezone: TimeZoneName | None = Field(default=None, description="IANA zone name")
    boards: Annotated[dict[BoardName, dict[str, Any] | None], Field(min_length=1)] = Field(
        description="board name -> that board's overrides ({} for none)"
    )

    def zone(self, default: str = "UTC") -> ZoneInfo:
        """The posting's time zone, or ``default`` when it names none."""
        return ZoneInfo(self.timezone or default)

    def publish_time(self, default_tz: str = "UTC") -> datetime | None:
        """When the posting should go live, as an aware datetime."""
        return None if self.publish_at is None else start_of(self.publish_at, self.zone(default_tz))

    def expiry_time(self, default_tz: str = "UTC") -> datetime | None:
        """When the posting ends, as an aware datetime (end of day for a date)."""
        return None if self.expires_at is None else end_of(self.expires_at, self.zone(default_tz))

    def board_overrides(self, board: str) -> dict[str, Any]:
        """The per-posting settings for ``board`` (empty when none)."""
        return dict(self.boards.get(board) or {})


def start_of(when: datetime | date, zone: ZoneInfo) -> datetime:
    """A date means 00:00 local time in ``zone``; a date-time is taken as it is."""
    if isinstance(when, datetime):
        return when
    return datetime.combine(when, time.min, tzinfo=zone)


def end_of(when: datetime | date, zone: ZoneInfo) -> datetime:
    """A date means 23:59:59 local time that day in ``zone``; a date-time is taken as it is."""
    if isinstance(when, datetime):
        return when
    return datetime.combine(when, time(23, 59, 59), tzinfo=zone)
