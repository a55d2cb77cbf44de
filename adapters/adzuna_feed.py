"""Adzuna XML feed (downloaded at least daily). Mandatory: title (title only), a unique id
and an HTML description of at least 100 characters."""

from __future__ import annotations

from adapters.feedwriter import Dialect, FeedAdapter, iso_date
from publisher.boards import BoardRules, RefreshPolicy


class AdzunaFeedAdapter(FeedAdapter):
    name = "adzuna_feed"
    rules = BoardRules(description_min=100)
    refresh_policy = RefreshPolicy()  # downloaded daily: the file is the listing
    dialect = Dialect(
        root="jobs",
        fields=(
            ("id", "ref"),
            ("title", "title"),
            ("description", "description"),
            ("url", "url"),
            ("company", "company"),
            ("location", "location"),
            ("city", "city"),
            ("region", "state"),
            ("country", "country"),
            ("postcode", "postalcode"),
            ("salary", "salary"),
            ("contract_type", "contract_type"),
            ("contract_time", "contract_time"),
            ("category", "category"),
            ("date", "date"),
        ),
        date=iso_date,
        filename="feeds/adzuna.xml",
    )
