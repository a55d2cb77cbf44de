"""Many listings in one board call: batches of actions, and polls of board tasks.

A board that declares ``batch_size`` gets its due work in :meth:`ApiAdapter.submit` calls
of up to that many elements, and answers each element on its own: a receipt, or that
element's error, mapped like any other (retry later, refused, auth). Each listing keeps its
own outcome, idempotency key and reconcile-before-resend. A board that declares ``tasks``
answers with task ids; the listing stays pending and its work row holds the task and when to
poll next (doubling, up to the board's maximum) until the board's task lifetime, after which
the engine stops waiting and reconciles.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from publisher.adapter import ApiAdapter, Receipt, Reconcile, Submission
from publisher.errors import (
    BoardAuthError,
    BoardError,
    BoardRejected,
    BoardUnavailable,
    NotOnBoard,
    OutcomeUnknown,
)
from publisher.executor import CHECK_THE_BOARD, MAX_ATTEMPTS, board_call, human, retry_delay
from publisher.ledger import ListingChange, Outcome
from publisher.states import ActionKind, EventOutcome, ListingState, WorkState

if TYPE_CHECKING:
    from publisher.executor import Executor, Job, TokenBucket, Unit

__all__ = ["units"]


def units(executor: Executor, jobs: list[Job]) -> Iterator[Unit]:
    """One board's jobs as units: polls of waiting tasks, batches, or single jobs."""
    polls: dict[int, list[Job]] = {}
    batches: dict[int, list[Job]] = {}
    for job in jobs:
        adapter = job.adapter
        if isinstance(adapter, ApiAdapter) and job.work.task_id and adapter.tasks is not None:
            polls.setdefault(id(adapter), []).append(job)
        elif isinstance(adapter, ApiAdapter) and adapter.batch_size > 1:
            batches.setdefault(id(adapter), []).append(job)
        else:
            yield executor.one, [job]
    for group in polls.values():
        tasks = group[0].adapter.tasks  # type: ignore[attr-defined]
        for start in range(0, len(group), tasks.poll_size):
            yield _Poll(executor).run, group[start:start + tasks.poll_size]
    for group in batches.values():
        yield from ((_Batch(executor).run, part) for part in _fill(group))


def _backoff(attempt: int) -> float:
    """Seconds before a batch goes again: 1, 2, 4 ... at most 60."""
    return float(min(60, 2 ** (attempt - 1)))


def _fill(jobs: list[Job]) -> Iterator[list[Job]]:
    """Consecutive jobs in batches of at most the board's size, by elements."""
    adapter = jobs[0].adapter
    assert isinstance(adapter, ApiAdapter)
    part: list[Job] = []
    size = 0
    for job in jobs:
        weight = adapter.elements(job.posting) if job.work.kind != ActionKind.EXPIRE else 1
        if part and size + weight > adapter.batch_size:
            yield part
            part, size = [], 0
        part.append(job)
        size += weight
    if part:
        yield part


class _Batch:
    """Up to ``MAX_ATTEMPTS`` submit calls for one batch; each element settles on its own
    answer, the retryable ones go again together, what is left is due again later."""

    def __init__(self, executor: Executor) -> None:
        self.x = executor
        self.outcomes: dict[int, Outcome] = {}
        self.events: dict[int, list[Any]] = {}
        self.found: dict[int, Receipt] = {}  # work id -> a lost create found by lookup

    async def run(self, jobs: list[Job], bucket: TokenBucket) -> list[Outcome]:
        x = self.x
        adapter = jobs[0].adapter
        assert isinstance(adapter, ApiAdapter)
        todo = []
        for job in jobs:
            self.events[job.work.id] = []
            if adapter.name in x.broken:
                self._end(job, x.failed(job, BoardAuthError(adapter.name,
                                                             x.broken[adapter.name]), [],
                                         job.listing.attempts))
            elif job.work.kind == ActionKind.EXPIRE and job.listing.board_id is None \
                    and not job.listing.reconcile and job.listing.state != ListingState.PENDING:
                self._end(job, x.done(job, None, [x.event(job, job.work.kind, "ok",
                                                           "was never on the board")],
                                       job.listing.attempts))
            else:
                todo.append(job)
        reconcile = {job.work.id for job in todo if job.listing.reconcile
                     and job.work.kind == ActionKind.POST}
        if adapter.tasks is not None and adapter.reconcile == Reconcile.UPDATE:
            todo = [job for job in todo if not self._wait_to_probe(job, reconcile, adapter)]
        attempt = 0
        while todo:
            attempt += 1
            if adapter.reconcile == Reconcile.LOOKUP:
                todo = await self._look_up(todo, reconcile, adapter)
            elif adapter.reconcile == Reconcile.MANUAL:  # never resent: a person checks
                for job in [j for j in todo if j.work.id in reconcile
                            and j.listing.state != ListingState.FAILED]:
                    self._fail(job, BoardRejected(adapter.name, CHECK_THE_BOARD), attempt - 1)
                todo = [j for j in todo if j.work.id not in self.outcomes]
                if not todo:
                    break
            await bucket.take()
            subs = [self._submission(job, adapter, job.work.id in reconcile) for job in todo]
            try:
                answers = await self._call(adapter, subs)
            except BoardUnavailable as exc:
                if exc.status not in (502, 504):
                    todo = await self._again(todo, exc, attempt, reconcile, adapter)
                    continue
                # a gateway error may hide a batch the board took: as unknown
                unknown = OutcomeUnknown(exc.board, exc.reason, exc.status)
                reconcile |= {j.work.id for j in todo if j.work.kind == ActionKind.POST}
                todo = await self._again(todo, unknown, attempt, reconcile, adapter)
                continue
            except OutcomeUnknown as exc:
                reconcile |= {j.work.id for j in todo if j.work.kind == ActionKind.POST}
                todo = await self._again(todo, exc, attempt, reconcile, adapter)
                continue
            except BoardError as exc:
                if isinstance(exc, BoardAuthError):
                    x.broken[adapter.name] = exc.reason
                for job in todo:
                    self._fail(job, exc, attempt)
                return self._in_order(jobs)
            retry: list[Job] = []
            errors: dict[int, BoardError] = {}  # why each retried element goes again
            for job, sub, answer in zip(todo, subs, answers, strict=True):
                if isinstance(answer, NotOnBoard) and job.work.kind == ActionKind.EXPIRE:
                    self._end(job, x.gone(job, answer, self.events[job.work.id],
                                          job.listing.attempts + attempt))
                elif isinstance(answer, Receipt):
                    self._end(job, x.settle(job, answer, self.events[job.work.id],
                                            job.listing.attempts + attempt, sub.probe))
                elif sub.probe and isinstance(answer, BoardRejected):  # not there: create it
                    self.events[job.work.id].append(x.event(
                        job, ActionKind.RECONCILE, EventOutcome.OK,
                        f"update refused ({answer.reason}): not on the board, creating it"))
                    reconcile.discard(job.work.id)
                    retry.append(job)
                elif isinstance(answer, BoardUnavailable):
                    self._note_retry(job, answer)
                    retry.append(job)
                    errors[job.work.id] = answer
                else:
                    if isinstance(answer, BoardAuthError):
                        x.broken[adapter.name] = answer.reason
                    self._fail(job, answer, attempt)
            todo = retry
            waits = [e.retry_after for e in errors.values()
                     if isinstance(e, BoardUnavailable) and e.retry_after is not None]
            wait = max(waits, default=None)
            if todo and (attempt >= MAX_ATTEMPTS or (wait is not None and wait > x.max_wait)):
                later = retry_delay(max(j.work.attempts for j in todo)) if wait is None \
                    or wait <= x.max_wait else timedelta(seconds=wait)
                for job in todo:
                    why = errors.get(job.work.id) or BoardUnavailable(adapter.name, "not done "
                                                                     f"after {attempt} attempts")
                    self._later(job, why, attempt, later, job.work.id in reconcile)
                todo = []
            elif todo:
                await x.sleep(wait if wait is not None else _backoff(attempt))
        return self._in_order(jobs)

    async def _look_up(self, todo: list[Job], reconcile: set[int],
                       adapter: ApiAdapter[Any]) -> list[Job]:
        """Creates whose outcome is unknown, on a board that can be queried: a create found
        there is adopted (and updated if the posting changed since), never made again."""
        left = []
        for job in todo:
            if job.work.id not in reconcile:
                left.append(job)
                continue
            ref = job.listing.external_ref
            try:
                found = await adapter.lookup(ref)
            except BoardError as exc:
                self._later(job, exc, 0, retry_delay(job.work.attempts), True)
                continue
            reconcile.discard(job.work.id)
            where = f"found on the board as {found.board_id}" if found else "not on the board"
            self.events[job.work.id].append(self.x.event(job, ActionKind.RECONCILE,
                                                         EventOutcome.OK,
                                                         f"looked up {ref}: {where}"))
            if found is not None and job.work.revision == job.revision:
                self._end(job, self.x.done(job, found, self.events[job.work.id],
                                            job.listing.attempts))
                continue
            if found is not None:
                self.found[job.work.id] = found
            left.append(job)
        return left

    def _submission(self, job: Job, adapter: ApiAdapter[Any], unknown: bool) -> Submission:
        listing = job.listing
        found = self.found.get(job.work.id)
        if found is not None:  # made by an earlier attempt: send this revision as an update
            return Submission(ActionKind.UPDATE, job.posting, found,
                              job.work.idempotency_key + f"/r{job.revision}", listing.posted_at)
        key = job.work.idempotency_key
        if job.work.revision is not None and job.work.revision != job.revision:
            key = f"{key}/r{job.revision}"  # edited since planned: other content, other key
        probe = unknown and adapter.reconcile == Reconcile.UPDATE
        return Submission(job.work.kind, job.posting,
                          Receipt(adapter.name, listing.external_ref, listing.board_id,
                                  listing.url), key, listing.posted_at, probe)

    async def _call(self, adapter: ApiAdapter[Any],
                    subs: Sequence[Submission]) -> list[Any]:
        answers = list(await board_call(adapter.name, adapter.submit(subs),
                                        "the board may have processed the batch",
                                        self.x.deadline(adapter.name)))
        if len(answers) != len(subs):
            raise OutcomeUnknown(adapter.name, f"the board answered {len(answers)} results "
                                 f"for {len(subs)} elements")
        return answers

    async def _again(self, todo: list[Job], exc: BoardError, attempt: int,
                     reconcile: set[int], adapter: ApiAdapter[Any]) -> list[Job]:
        """The whole call failed: retry in this run, or come back later."""
        wait = exc.retry_after if isinstance(exc, BoardUnavailable) else None
        tasks = adapter.tasks
        later: timedelta | None = None
        if wait is not None and wait > self.x.max_wait:
            later = timedelta(seconds=wait)
        elif isinstance(exc, OutcomeUnknown) and tasks is not None:
            later = tasks.first_poll  # ask once what was sent could have landed
        elif attempt >= MAX_ATTEMPTS:
            later = retry_delay(max(j.work.attempts for j in todo))
        if later is not None:
            for job in todo:
                self._later(job, exc, attempt, later, job.work.id in reconcile)
            return []
        for job in todo:
            self._note_retry(job, exc)
        await self.x.sleep(wait if wait is not None else _backoff(attempt))
        return todo

    def _note_retry(self, job: Job, exc: BoardError) -> None:
        self.events[job.work.id].append(self.x.event(job, job.work.kind, EventOutcome.RETRY,
                                                     f"{exc.reason}; retrying", exc.status))

    def _wait_to_probe(self, job: Job, reconcile: set[int], adapter: ApiAdapter[Any]) -> bool:
        """A create of unknown fate (a crashed run's, a task given up) on a board that
        finishes later: probe only once the create would have been processed."""
        if job.work.id not in reconcile or job.work.probe:
            return False
        assert adapter.tasks is not None
        wait = adapter.tasks.first_poll
        event = self.x.event(job, ActionKind.RECONCILE, EventOutcome.RETRY,
                             f"a create of unknown outcome: asking the board in {human(wait)} "
                             "whether it arrived (an update of it)")
        self._end(job, Outcome(job.work.id, job.listing.id, {"reconcile": True},
                               {"state": WorkState.PENDING, "due_at": self.x.clock() + wait,
                                "probe": True}, [*self.events[job.work.id], event]))
        return True

    def _later(self, job: Job, exc: BoardError, attempt: int, wait: timedelta,
               reconcile: bool) -> None:
        outcome = self.x.rescheduled(job, exc, wait, self.events[job.work.id],
                                      job.listing.attempts + attempt, reconcile)
        if reconcile and job.work.kind == ActionKind.POST:
            outcome.work["probe"] = True  # the next attempt asks the board first
        self._end(job, outcome)

    def _fail(self, job: Job, exc: BoardError, attempt: int) -> None:
        self._end(job, self.x.failed(job, exc, self.events[job.work.id],
                                      job.listing.attempts + attempt))

    def _end(self, job: Job, outcome: Outcome) -> None:
        self.outcomes[job.work.id] = outcome

    def _in_order(self, jobs: list[Job]) -> list[Outcome]:
        return [self.outcomes[job.work.id] for job in jobs]


class _Poll:
    """One poll of up to ``poll_size`` tasks of a board."""

    def __init__(self, executor: Executor) -> None:
        self.x = executor

    async def run(self, jobs: list[Job], bucket: TokenBucket) -> list[Outcome]:
        x = self.x
        adapter = jobs[0].adapter
        assert isinstance(adapter, ApiAdapter) and adapter.tasks is not None
        await bucket.take()
        try:
            found = await board_call(adapter.name, adapter.poll(
                [str(job.work.task_id) for job in jobs]), "polling (a read) went wrong",
                x.deadline(adapter.name))
        except BoardError as exc:  # a poll is a read: the tasks wait for the next one
            if isinstance(exc, BoardAuthError):
                x.broken[adapter.name] = exc.reason
            return [self._waiting(job, f"poll failed: {exc.reason}", str(exc), exc.status)
                    for job in jobs]
        return [self._settle(job, found.get(str(job.work.task_id))) for job in jobs]

    def _settle(self, job: Job, answer: Receipt | BoardError | None) -> Outcome:
        x, work = self.x, job.work
        tasks = job.adapter.tasks  # type: ignore[attr-defined]
        now = x.clock()
        if isinstance(answer, Receipt):
            events = [x.event(job, work.kind, EventOutcome.OK,
                              f"board task {work.task_id} done")]
            if work.probe:
                events.append(x.event(job, ActionKind.RECONCILE, EventOutcome.OK,
                                      "the earlier create is on the board: adopted"))
            done = x.done(job, answer, events, job.listing.attempts)
            if work.kind in (ActionKind.POST, ActionKind.UPDATE) and not work.probe:
                # What was sent was recorded when it was sent; the posting may have changed
                # since, and the next plan must still see that change.
                done.listing.pop("revision", None)
                done.listing.pop("content_hash", None)
            return done
        if isinstance(answer, NotOnBoard) and work.kind == ActionKind.EXPIRE:
            return x.gone(job, answer, [], job.listing.attempts)
        if isinstance(answer, BoardError) and work.probe:  # the update found nothing
            return self._resend(job, f"probe update failed ({answer.reason}): not on the "
                                "board, creating it", reconcile=False)
        if isinstance(answer, BoardUnavailable):
            return self._resend(job, f"board task {work.task_id} failed for now "
                                f"({answer.reason}); sending it again",
                                reconcile=work.kind == ActionKind.POST)
        if isinstance(answer, BoardError):
            if isinstance(answer, BoardAuthError):
                x.broken[job.adapter.name] = answer.reason
            return x.failed(job, answer, [], job.listing.attempts)
        if work.task_until is not None and now >= work.task_until:
            return self._resend(job, f"board task {work.task_id} unfinished after the board's "
                                f"task lifetime ({human(tasks.lifetime)}); reconciling",
                                reconcile=work.kind == ActionKind.POST)
        return self._waiting(job, f"board task {work.task_id} still in progress", None, None,
                             counted=True)

    def _waiting(self, job: Job, detail: str, error: str | None, status: int | None,
                 counted: bool = False) -> Outcome:
        x, work = self.x, job.work
        tasks = job.adapter.tasks  # type: ignore[attr-defined]
        polls = work.polls + 1 if counted else work.polls
        wait = tasks.next_poll(polls)
        outcome = EventOutcome.OK if error is None else EventOutcome.RETRY
        event = x.event(job, work.kind, outcome, f"{detail}; next poll in {human(wait)}",
                        status)
        return Outcome(work.id, job.listing.id, {"last_error": error},
                       {"state": WorkState.PENDING, "due_at": x.clock() + wait,
                        "polls": polls, "last_error": error}, [event])

    def _resend(self, job: Job, detail: str, *, reconcile: bool) -> Outcome:
        """Stop waiting on the task: the work is due now and sent again (a create whose
        fate is unknown is reconciled first)."""
        x, work = self.x, job.work
        event = x.event(job, ActionKind.RECONCILE if work.probe else work.kind,
                        EventOutcome.RETRY, detail)
        listing: ListingChange = {"reconcile": reconcile}
        if work.kind == ActionKind.UPDATE:  # not known to have landed: still to be sent
            listing["content_hash"] = None
        return Outcome(work.id, job.listing.id, listing,
                       {"state": WorkState.PENDING, "due_at": x.clock(), "task_id": None,
                        "task_until": None, "polls": 0, "probe": False}, [event])
