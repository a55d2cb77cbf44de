"""Jooble XML feed (crawled by JoobleBot at least daily), per Jooble's "XML Feed
Specifications": each job element carries an ``id`` attribute; dates are DD.MM.YYYY;
jobs older than 45 days (by pubdate/updated) are not indexed, so listings are refreshed
(``<updated>`` moves) every 30 days.
"""

from __future__ import annotations

from datetime import timedelta

from adapters.feedwriter import Dialect, FeedAdapter, dotted_date, rfc822
from publisher.boards import BoardRules, RefreshPolicy


class JoobleFeedAdapter(FeedAdapter):
    name = "jooble_feed"
    # Jooble asks for the complete description; we require 100 characters, like Adzuna.
    rules = BoardRules(description_min=100)
    refresh_policy = RefreshPolicy(every=timedelta(days=30))  # re-dated before its 45 days
    dialect = Dialect(
        root="jobs",
        id_attribute="id",
        fields=(
            ("link", "url"),
            ("name", "title"),
            ("region", "location"),
            ("description", "description"),
            ("pubdate", "date"),
            ("updated", "updated"),
            ("expire", "expires"),
            ("salary", "salary"),
            ("company", "company"),
            ("type", "jobtype"),
        ),
        date=dotted_date,
        build_date=rfc822,
        filename="feeds/jooble.xml",
    )
