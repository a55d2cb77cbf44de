"""Shared test helpers: a valid posting as YAML text and as a Posting."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from publisher.config import Config, apply_defaults
from publisher.rules import RuleContext
from publisher.schema import Posting

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

BASE_YAML = """\
id: {id}
title: Data Analyst
company:
  name: Example Corp
employment_type: full_time
workplace: onsite
locations:
  - city: Boulder
    region: CO
    country: US
    postal_code: "80301"
salary:
  min: 70000
  max: 90000
  currency: USD
  period: year
summary: |
  Example Corp is hiring a data analyst to turn sales data into decisions.
  You will build dashboards and work with every team in the company.
responsibilities:
  - Build and maintain dashboards
qualifications:
  - Two years of SQL
benefits:
  - Health insurance
eeo_statement: Example Corp is an equal opportunity employer.
apply:
  url: https://jobs.example.com/data-analyst
publish_at: 2026-12-01
expires_at: 2027-01-31
timezone: America/Denver
boards:
  indeed_feed: {{}}
"""


def posting_text(posting_id: str = "data-analyst") -> str:
    return BASE_YAML.format(id=posting_id)


def posting_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(posting_text())
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def make_posting(**overrides: Any) -> Posting:
    return apply_defaults(Posting.model_validate(posting_data(**overrides)), Config())


def context(**kwargs: Any) -> RuleContext:
    return RuleContext(now=kwargs.pop("now", NOW), **kwargs)


def line_of(text: str, needle: str) -> int:
    """1-based number of the first line containing ``needle``."""
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in text")
