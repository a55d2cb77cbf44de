"""A posting the pay rules pass never loses its range on the way to a board: every board of
the registry shows (or sends) both ends of the range the rules accepted, in its own form."""

from __future__ import annotations

import pytest

from publisher import clock
from publisher.config import load_config
from publisher.registry import Adapters, boards
from tests.factories import NOW, ROOT, make_posting

SETTINGS = {
    "smartrecruiters": {"industry": "47", "function": "it"},
    "stepstone": {"url": "https://jobfeed.stepstone.example/push"},
    "reed": {"username": "hr@example.co.uk"},
    "indeed": {"source_name": "Example"},
    "webhook": {"url": "https://careers.example.test/hooks/jobpub"},
}


def forms(amount: float) -> set[str]:
    """How a board may write an amount: 70,000 / 70000 / 70000.0 / minor units / 70k."""
    return {
        f"{amount:,.0f}",
        f"{amount:.0f}",
        f"{amount:g}",
        f"{amount:.1f}",
        str(round(amount * 100)),
        f"{amount / 1000:g}k",
    }


@pytest.mark.parametrize("board", sorted(boards()))
def test_both_ends_of_the_accepted_range_reach_the_board(
    board: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clock, "now", lambda: NOW)
    config = load_config(ROOT / "config/jobpub.toml")
    config.boards.update(
        {name: {**config.boards.get(name, {}), **table} for name, table in SETTINGS.items()}
    )
    country = {"reed": "GB"}.get(board, "US")
    posting = make_posting(
        boards={board: {}},
        locations=[
            {
                "city": "Manchester" if country == "GB" else "Boulder",
                "country": country,
                **({"region": "CO"} if country == "US" else {}),
            }
        ],
        salary={"min": 70000, "max": 90000, "currency": "USD", "period": "year"},
    )
    shown = Adapters(config).get(board).preview(posting)
    for amount in (70000, 90000):
        assert any(form in shown for form in forms(amount)), f"{board} lost {amount:g}"
