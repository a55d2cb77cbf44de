"""Indeed XML feed, crawled by Indeed: https://docs.indeed.com/indeed-apply/xml-feed

One ``<job>`` per location, each with a ``referencenumber`` that never changes; all values
in CDATA with literal characters (Indeed rejects HTML entities).
"""

from __future__ import annotations

from adapters.feedwriter import Dialect, FeedAdapter, iso_date, rfc822


class IndeedFeedAdapter(FeedAdapter):
    name = "indeed_feed"
    dialect = Dialect(
        root="source",
        header=(("publisher", "publisher"), ("publisherurl", "publisher_url"),
                ("lastBuildDate", "built")),
        fields=(
            ("title", "title"), ("date", "date"), ("referencenumber", "ref"),
            ("requisitionid", "requisitionid"), ("url", "url"), ("company", "company"),
            ("sourcename", "company"), ("city", "city"), ("state", "state"),
            ("country", "country"), ("postalcode", "postalcode"), ("streetaddress", "street"),
            ("email", "email"), ("description", "description"), ("salary", "salary"),
            ("education", "education"), ("jobtype", "jobtype"), ("category", "category"),
            ("experience", "experience"), ("remotetype", "remotetype"),
        ),
        date=iso_date,
        build_date=rfc822,
        filename="feeds/indeed.xml",
    )
