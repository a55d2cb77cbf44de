"""Talent.com XML feed: https://talent.com/integrations

Indeed-style ``<source>``/``<job>``; dates as yyyy-MM-ddTHH:mm:ssZ; the description is HTML
of at least 50 characters; job URLs carry a tracking parameter.
"""

from __future__ import annotations

from typing import ClassVar

from adapters.feedwriter import Dialect, FeedAdapter, FeedSettings, iso_date
from publisher.boards import BoardRules, BoardSettings, RefreshPolicy


class TalentSettings(FeedSettings):
    url_params: str | None = "source=talent"


class TalentFeedAdapter(FeedAdapter):
    name = "talent_feed"
    settings_model: ClassVar[type[BoardSettings]] = TalentSettings
    rules = BoardRules(description_min=50)
    refresh_policy = RefreshPolicy()
    dialect = Dialect(
        root="source",
        header=(
            ("publisher", "publisher"),
            ("publisherurl", "publisher_url"),
            ("lastbuilddate", "built"),
        ),
        fields=(
            ("referencenumber", "ref"),
            ("title", "title"),
            ("company", "company"),
            ("city", "city"),
            ("state", "state"),
            ("country", "country"),
            ("postalcode", "postalcode"),
            ("dateposted", "date"),
            ("url", "url"),
            ("description", "description"),
            ("salary", "salary"),
            ("jobtype", "jobtype"),
            ("expirationdate", "expires"),
        ),
        date=iso_date,
        build_date=iso_date,
        filename="feeds/talent.xml",
    )
