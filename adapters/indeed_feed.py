"""Indeed XML feed, crawled by Indeed.

Checked against Indeed's XML feed reference (https://docs.indeed.com/indeed-apply/xml-feed
and the Job Sync XML feed reference):

* root ``<source>``, one ``<job>`` per location, each with a ``referencenumber`` that is
  unique per job *and location* and never changes; ``requisitionid`` ties them together;
* ``<date>`` when the job was first published, ISO 8601 (here with the posting's offset,
  the day a reader sees on the job page);
* every value in CDATA with literal characters: Indeed does not support HTML entities
  anywhere in the feed, so the description's ``&``, ``<``, ``>`` are written as they are;
* optional ``<email>`` (Indeed asks new sources for a contact address on every job: the
  apply e-mail, else ``[company] email``; ``validate`` warns when there is none),
  ``<salary>`` as the text a seeker reads (``$85,000 - $120,000 per year``),
  ``<expirationdate>``, ``<education>``, ``<jobtype>``, ``<category>``, ``<experience>``;
* fully remote jobs: ``<remotetype>`` with the location fields present and empty.
  ``<remotetype>`` values "Fully remote" / "Hybrid remote" are the ones Indeed-fed career
  sites publish (the reference page we could read was cut before the element's table).
"""

from __future__ import annotations

from adapters.feedwriter import Dialect, FeedAdapter, iso_date, rfc822
from publisher.boards import BoardRules, Posting, Problem, RefreshPolicy, Salary, amount

#: Currency symbols as Indeed shows pay; other currencies keep their code ("CHF 90,000").
SYMBOLS = {
    "USD": "$",
    "CAD": "$",
    "AUD": "$",
    "NZD": "$",
    "SGD": "$",
    "GBP": "£",
    "EUR": "€",
    "INR": "₹",
    "JPY": "¥",
}
PERIODS = {"hour": "hour", "day": "day", "week": "week", "month": "month", "year": "year"}


def indeed_salary(salary: Salary) -> str:
    """``$85,000 - $120,000 per year``; one figure when there is no range."""
    symbol = SYMBOLS.get(salary.currency)

    def money(value: float) -> str:
        return f"{symbol}{amount(value)}" if symbol else f"{salary.currency} {amount(value)}"

    span = money(salary.min)
    if salary.max is not None and salary.max != salary.min:
        span += f" - {money(salary.max)}"
    return f"{span} per {PERIODS[salary.period]}"


class IndeedFeedAdapter(FeedAdapter):
    name = "indeed_feed"
    rules = BoardRules()  # a job URL (every feed) and a contact e-mail (extra_checks)
    refresh_policy = RefreshPolicy()
    dialect = Dialect(
        root="source",
        header=(
            ("publisher", "publisher"),
            ("publisherurl", "publisher_url"),
            ("lastBuildDate", "built"),
        ),
        fields=(
            ("title", "title"),
            ("date", "date"),
            ("referencenumber", "ref"),
            ("requisitionid", "requisitionid"),
            ("url", "url"),
            ("company", "company"),
            ("sourcename", "company"),
            ("city", "city"),
            ("state", "state"),
            ("country", "country"),
            ("postalcode", "postalcode"),
            ("streetaddress", "street"),
            ("email", "email"),
            ("description", "description"),
            ("salary", "salary"),
            ("education", "education"),
            ("jobtype", "jobtype"),
            ("category", "category"),
            ("experience", "experience"),
            ("expirationdate", "expires"),
            ("remotetype", "remotetype"),
        ),
        date=iso_date,
        build_date=rfc822,
        filename="feeds/indeed.xml",
        salary=indeed_salary,
        remote_empty=frozenset({"city", "state", "postalcode"}),
        literal_html=True,
    )

    def extra_checks(self, posting: Posting) -> list[Problem]:
        found: list[Problem] = super().extra_checks(posting)
        company = posting.company
        if not posting.apply.email and not (company and company.email):
            found.append(
                Problem(
                    "board-rule",
                    "no contact e-mail: Indeed asks for one on every job from a new "
                    "source; set apply.email, or email under [company] in the config",
                    ("apply",),
                    severity="warning",
                )
            )
        return found
