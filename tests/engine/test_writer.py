"""The ledger writer (issue 15, item 3): outcomes are recorded in batches by time and count,
one transaction (``Ledger.record`` call) per batch; what a SIGKILL may lose is covered by
tests/engine/test_kill.py and test_failures.py (an unwritten outcome is reconciled)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from publisher.executor import Executor
from publisher.ledger import Outcome


class Transactions:
    """A ledger that only counts what each ``record`` call (one transaction) is given."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    def record(self, outcomes: list[Outcome]) -> list[str]:
        self.batches.append([o.work_id for o in outcomes])
        return []


def writer(ledger: Transactions, **kwargs: Any) -> Executor:
    async def sleep(seconds: float) -> None:
        await asyncio.sleep(seconds)

    return Executor(
        ledger,
        lambda: datetime(2026, 12, 1, tzinfo=UTC),
        sleep,  # type: ignore[arg-type]
        **kwargs,
    )


def outcome(n: int) -> Outcome:
    return Outcome(n, n, {"state": "live"}, {"state": "done"})


async def test_outcomes_that_are_waiting_go_in_one_transaction() -> None:
    ledger = Transactions()
    executor = writer(ledger, window=5.0)
    for n in range(10):
        executor._outcomes.put_nowait(outcome(n))
    executor._outcomes.put_nowait(None)
    await executor._write()
    assert ledger.batches == [list(range(10))]


async def test_a_batch_holds_at_most_batch_outcomes() -> None:
    ledger = Transactions()
    executor = writer(ledger, batch=4, window=5.0)
    for n in range(10):
        executor._outcomes.put_nowait(outcome(n))
    executor._outcomes.put_nowait(None)
    await executor._write()
    assert ledger.batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


async def test_outcomes_within_the_window_are_written_together_and_later_ones_apart() -> None:
    ledger = Transactions()
    executor = writer(ledger, window=0.05)
    task = asyncio.create_task(executor._write())
    executor._outcomes.put_nowait(outcome(1))
    executor._outcomes.put_nowait(outcome(2))  # with the first: one transaction
    while not ledger.batches:  # the window closes, the batch is written
        await asyncio.sleep(0.01)
    executor._outcomes.put_nowait(outcome(3))
    executor._outcomes.put_nowait(None)
    await asyncio.wait_for(task, 10)
    assert ledger.batches == [[1, 2], [3]]


async def test_a_batch_waits_for_outcomes_arriving_within_its_window() -> None:
    ledger = Transactions()
    executor = writer(ledger, window=30.0)
    task = asyncio.create_task(executor._write())
    executor._outcomes.put_nowait(outcome(1))
    await asyncio.sleep(0.05)  # the writer has taken the first and waits for more
    assert ledger.batches == []
    executor._outcomes.put_nowait(outcome(2))
    executor._outcomes.put_nowait(None)
    await asyncio.wait_for(task, 10)
    assert ledger.batches == [[1, 2]]
