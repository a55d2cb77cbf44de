"""Careerjet XML feed: https://www.careerjet.fi/docs/feeds/xml (suggested format)."""

from __future__ import annotations

from adapters.feedwriter import Dialect, FeedAdapter, iso_date
from publisher.boards import BoardRules, RefreshPolicy


class CareerjetFeedAdapter(FeedAdapter):
    name = "careerjet_feed"
    rules = BoardRules()  # a job URL (checked for every feed)
    refresh_policy = RefreshPolicy()
    dialect = Dialect(
        root="jobs",
        fields=(
            ("id", "ref"),
            ("title", "title"),
            ("url", "url"),
            ("location/city", "city"),
            ("location/region", "state"),
            ("location/country", "country"),
            ("company", "company"),
            ("company_url", "company_url"),
            ("description", "description"),
            ("contract_type", "contract_type"),
            ("working_hours", "working_hours"),
            ("salary", "salary"),
            ("application_email", "email"),
            ("apply_url", "apply_url"),
            ("job_reference", "requisitionid"),
        ),
        date=iso_date,
        filename="feeds/careerjet.xml",
    )
