"""The boards this package ships, one line per board, sorted by name.

jobpub finds boards through the ``jobpub.boards`` entry points (``publisher.registry``);
``ADAPTERS`` is what those entry points name, and what a never-installed source tree uses.
It is built on first use: importing one board's module (as its entry point does) must not
import every other board's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from publisher.adapter import BoardAdapter

ADAPTERS: dict[str, type[BoardAdapter[Any]]]


def __getattr__(name: str) -> Any:
    if name != "ADAPTERS":
        raise AttributeError(f"module 'adapters' has no attribute '{name}'")
    from adapters.adzuna_feed import AdzunaFeedAdapter
    from adapters.careerjet_feed import CareerjetFeedAdapter
    from adapters.google import GoogleAdapter
    from adapters.indeed import IndeedAdapter
    from adapters.indeed_feed import IndeedFeedAdapter
    from adapters.jooble_feed import JoobleFeedAdapter
    from adapters.linkedin import LinkedInAdapter
    from adapters.reed import ReedAdapter
    from adapters.smartrecruiters import SmartRecruitersAdapter
    from adapters.stepstone import StepStoneAdapter
    from adapters.talent_feed import TalentFeedAdapter
    from adapters.webhook import WebhookAdapter
    from adapters.ziprecruiter import ZipRecruiterAdapter

    global ADAPTERS
    ADAPTERS = {
        "adzuna_feed": AdzunaFeedAdapter,
        "careerjet_feed": CareerjetFeedAdapter,
        "google": GoogleAdapter,
        "indeed": IndeedAdapter,
        "indeed_feed": IndeedFeedAdapter,
        "jooble_feed": JoobleFeedAdapter,
        "linkedin": LinkedInAdapter,
        "reed": ReedAdapter,
        "smartrecruiters": SmartRecruitersAdapter,
        "stepstone": StepStoneAdapter,
        "talent_feed": TalentFeedAdapter,
        "webhook": WebhookAdapter,
        "ziprecruiter": ZipRecruiterAdapter,
    }
    return ADAPTERS
