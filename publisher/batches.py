"""The one way actions reach an API board: units of one or many actions, and polls of tasks.

Every action is an element of a :meth:`ApiAdapter.submit` call: a board that declares
``batch_size`` gets up to that many elements a call, any other board batches of one (the
adapter's default ``submit`` makes the one call the action is). Each element settles on its
own answer, with its own idempotency key; a create whose outcome is unknown is settled
before anything is sent again, by the board's :class:`Reconcile` (the state machine in
:meth:`_Send.settle_first`); the attempts of a unit are retried by one tenacity policy
honouring ``Retry-After``; what is left when it gives up is due again later. A board that
declares ``tasks`` answers with task ids; the listing stays pending and its work row holds
the task and when to poll next (doubling, up to the board's maximum) until the board's task
lifetime, after which the engine stops waiting and reconciles.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

from publisher.adapter import ApiAdapter, FileAdapter, Receipt, Reconcile, Submission
from publisher.errors import (
    BoardAuthError,
    BoardError,
    BoardRejected,
    BoardUnavailable,
    NotOnBoard,
    OutcomeUnknown,
    PublisherError,
)
from publisher.http import board_call
from publisher.ledger import Event, ListingChange, Outcome
from publisher.retry import human, retry_delay
from publisher.states import ActionKind, EventOutcome, ListingState, WorkState

if TYPE_CHECKING:
    from publisher.executor import Executor, Job, TokenBucket, Unit

__all__ = ["CHECK_THE_BOARD", "MAX_ATTEMPTS", "MAX_RETRY_SECONDS", "units"]

#: The retry policy of every unit: at most this many calls, over at most this many seconds.
MAX_ATTEMPTS = 5
MAX_RETRY_SECONDS = 300
BACKOFF = wait_exponential_jitter(initial=1, max=60, jitter=1)
#: Why a create of unknown fate is not sent again on a board that can neither be queried
#: nor tell a repeat (Reconcile.MANUAL): a person decides.
CHECK_THE_BOARD = (
    "the create may have reached the board, which can neither be queried nor "
    "tell a repeat: check the board, then run jobpub sync --retry-failed to "
    "create it (or close it there)"
)
POST, UPDATE, REFRESH, EXPIRE = (
    ActionKind.POST,
    ActionKind.UPDATE,
    ActionKind.REFRESH,
    ActionKind.EXPIRE,
)


def units(executor: Executor, jobs: list[Job]) -> Iterator[Unit]:
    """One board's jobs as units: files, polls of waiting tasks, or sends (of one or many)."""
    polls: dict[int, list[Job]] = {}
    sends: dict[int, list[Job]] = {}
    for job in jobs:
        adapter = job.adapter
        if isinstance(adapter, FileAdapter):
            yield executor.files, [job]
        elif isinstance(adapter, ApiAdapter) and job.work.task_id and adapter.tasks is not None:
            polls.setdefault(id(adapter), []).append(job)
        else:
            sends.setdefault(id(adapter), []).append(job)
    poll, send = partial(_poll, executor), partial(_send, executor)
    for group in polls.values():
        tasks = group[0].adapter.tasks  # type: ignore[attr-defined]
        for start in range(0, len(group), tasks.poll_size):
            yield poll, group[start : start + tasks.poll_size]
    for group in sends.values():
        yield from ((send, part) for part in _fill(group))


async def _send(executor: Executor, jobs: list[Job], bucket: TokenBucket) -> list[Outcome]:
    """A unit of actions (its state is made when it runs: a sync queues many units)."""
    return await _Send(executor).run(jobs, bucket)


async def _poll(executor: Executor, jobs: list[Job], bucket: TokenBucket) -> list[Outcome]:
    return await _Poll(executor).run(jobs, bucket)


def _fill(jobs: list[Job]) -> Iterator[list[Job]]:
    """Consecutive jobs in units of at most the board's batch size, by elements."""
    adapter = jobs[0].adapter
    if not isinstance(adapter, ApiAdapter):
        raise TypeError(f"{adapter.name}: neither an API nor a file adapter")
    part: list[Job] = []
    size = 0
    for job in jobs:
        weight = (
            adapter.elements(job.posting)
            if adapter.batch_size > 1 and job.work.kind != EXPIRE
            else 1
        )
        if part and size + weight > adapter.batch_size:
            yield part
            part, size = [], 0
        part.append(job)
        size += weight
    if part:
        yield part


@dataclass
class _Again(Exception):
    """Elements to send again in this unit, each with why; ``wait``: the longest
    ``Retry-After`` among them (None: back off)."""

    jobs: list[Job]
    why: dict[int, BoardError]
    wait: float | None


def _wait(state: RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, _Again) and exc.wait is not None:
        return exc.wait
    return float(BACKOFF(state))


class _Send:
    """One unit: its elements' calls, attempt by attempt, until each has its outcome.

    Per element it keeps what is known of the listing on the board: whether a create's
    outcome is unknown (``unknown``: settled before anything is sent again), a create found
    there (``found``: never made again), a create the board said exists (``conflict``),
    and the element's audit events and attempts."""

    def __init__(self, executor: Executor) -> None:
        self.x = executor
        self.outcomes: dict[int, Outcome] = {}
        self.events: dict[int, list[Event]] = {}
        self.tries: dict[int, int] = {}
        self.found: dict[int, Receipt] = {}
        self.receipt: dict[int, Receipt] = {}  # the listing as the next call addresses it
        self.unknown: set[int] = set()
        self.conflict: set[int] = set()
        self.recreate: set[int] = set()  # an update or refresh of a listing no longer there

    async def run(self, jobs: list[Job], bucket: TokenBucket) -> list[Outcome]:
        adapter = jobs[0].adapter
        assert isinstance(adapter, ApiAdapter)
        todo = [job for job in jobs if not self._at_once(job, adapter)]
        if todo:
            try:
                await self.attempt(todo, adapter, bucket)
            except _Again as again:  # most units are done at once: tenacity only after
                await self._retried(again, adapter, bucket)
        return [self.outcomes[job.work.id] for job in jobs]

    def _at_once(self, job: Job, adapter: ApiAdapter[Any]) -> bool:
        """Settle what needs no call: a board whose credentials failed in this run, an
        expiry of a listing never on the board, a lost create waiting to be probed."""
        x, work, listing = self.x, job.work, job.listing
        self.events[work.id], self.tries[work.id] = [], listing.attempts
        self.receipt[work.id] = Receipt(
            adapter.name, listing.external_ref, listing.board_id, listing.url
        )
        if listing.reconcile:
            self.unknown.add(work.id)
        if adapter.name in x.broken:
            self._fail(job, BoardAuthError(adapter.name, x.broken[adapter.name]))
        elif (
            work.kind == EXPIRE
            and listing.board_id is None
            and not listing.reconcile
            and listing.state != ListingState.PENDING
        ):
            self._end(
                job,
                x.done(
                    job,
                    None,
                    [x.event(job, work.kind, EventOutcome.OK, "was never on the board")],
                    listing.attempts,
                ),
            )
        elif (
            adapter.tasks is not None
            and adapter.reconcile == Reconcile.UPDATE
            and work.kind == POST
            and listing.reconcile
            and not work.probe
        ):
            self._wait_to_probe(job, adapter)
        else:
            return False
        return True

    async def _retried(self, first: _Again, adapter: ApiAdapter[Any], bucket: TokenBucket) -> None:
        """Attempts after the first, by one policy (tenacity is handed the first attempt's
        leftovers as its first failure); what is left when it stops is due again later."""
        last, handed = first, False

        def before_sleep(state: RetryCallState) -> None:
            wait = state.next_action.sleep if state.next_action else 0.0
            for job in last.jobs:
                why = last.why[job.work.id]
                self.events[job.work.id].append(
                    self.x.event(
                        job,
                        job.work.kind,
                        EventOutcome.RETRY,
                        f"{why.reason}; retrying in {wait:.1f} s",
                        why.status,
                    )
                )

        try:
            async for trial in AsyncRetrying(
                stop=stop_after_attempt(MAX_ATTEMPTS) | stop_after_delay(MAX_RETRY_SECONDS),
                wait=_wait,
                retry=retry_if_exception_type(_Again),
                sleep=self.x.sleep,
                before_sleep=before_sleep,
                reraise=True,
            ):
                with trial:
                    if not handed:
                        handed = True
                        raise first
                    try:
                        await self.attempt(last.jobs, adapter, bucket)
                    except _Again as again:
                        last = again
                        raise
        except _Again:
            for job in last.jobs:
                self._later(job, last.why[job.work.id], retry_delay(job.work.attempts))

    async def attempt(self, todo: list[Job], adapter: ApiAdapter[Any], bucket: TokenBucket) -> None:
        """One call for the elements still to do, once their lost creates are settled;
        raises :class:`_Again` with those to send again in this run."""
        again: dict[int, BoardError] = {}
        ready: list[Job] = []
        for job in todo:
            why = await self.settle_first(job, adapter, bucket)
            if why is not None:
                again[job.work.id] = why
            elif job.work.id not in self.outcomes:
                ready.append(job)
        if ready:
            subs = [self._submission(job, adapter) for job in ready]
            for job in ready:
                self.tries[job.work.id] += 1
            answers = await self._call(adapter, subs, bucket)
            for job, sub, answer in zip(ready, subs, answers, strict=True):
                why = self._answer(job, sub, answer, adapter)
                if why is not None:
                    again[job.work.id] = why
        left = [job for job in todo if job.work.id in again]
        if left:
            waits = [
                e.retry_after
                for e in again.values()
                if isinstance(e, BoardUnavailable) and e.retry_after is not None
            ]
            raise _Again(left, again, max(waits, default=None))

    async def settle_first(
        self, job: Job, adapter: ApiAdapter[Any], bucket: TokenBucket
    ) -> BoardError | None:
        """The reconcile state machine: what is done about a listing whose create's outcome
        is unknown before this element is sent, by what the board offers.

        * LOOKUP: ask the board. Found: a create is adopted (done, or updated to this
          revision); any other action goes to the listing found. Not found: an expiry is
          done, a create is sent, an update or refresh puts the listing back (a create).
        * REPEAT: nothing: the element goes again under the same key (the board dedupes).
        * UPDATE: a create goes as an update (a probe): it lands if the listing is there.
        * MANUAL: a create is never resent: it fails, asking a person to check the board
          (until they retry a failed listing: then it is sent).

        Returns an error when the lookup itself must be tried again."""
        work = job.work
        if work.id not in self.unknown or adapter.reconcile == Reconcile.REPEAT:
            return None
        if adapter.reconcile == Reconcile.MANUAL:
            retried = job.listing.state == ListingState.FAILED  # a person checked the board
            if work.kind == POST and (not retried or self.tries[work.id] > job.listing.attempts):
                self._fail(job, BoardRejected(adapter.name, CHECK_THE_BOARD))
            return None
        if adapter.reconcile == Reconcile.UPDATE:
            return None  # the submission is a probe (see _submission)
        ref = job.listing.external_ref
        self.tries[work.id] += 1
        await bucket.take()
        try:
            found = await board_call(
                adapter.name,
                adapter.lookup(ref),
                "a lookup (a read)",
                self.x.deadline(adapter.name),
            )
        except (BoardUnavailable, OutcomeUnknown) as exc:
            return exc
        except BoardError as exc:
            self._fail(job, exc)
            return None
        self.unknown.discard(work.id)
        where = f"found on the board as {found.board_id}" if found else "not on the board"
        if found is None and work.kind in (UPDATE, REFRESH):
            where += ": putting it back (a create)"
            self.recreate.add(work.id)
        self._note(job, ActionKind.RECONCILE, f"looked up {ref}: {where}")
        if found is None:
            if work.kind == EXPIRE:
                self._end(
                    job,
                    self.x.done(
                        job, None, self._ok(job, "was not on the board"), self.tries[work.id]
                    ),
                )
            return None
        self.receipt[work.id] = found
        if work.kind == POST:  # made by an earlier attempt: never made again
            self.found[work.id] = found
            if work.revision == job.revision and work.id not in self.conflict:
                self._end(
                    job,
                    self.x.done(
                        job, found, self._ok(job, _ok_detail(POST, found)), self.tries[work.id]
                    ),
                )
        return None

    def _submission(self, job: Job, adapter: ApiAdapter[Any]) -> Submission:
        """The element as sent: an update of a create found on the board (this revision:
        the posting changed since it was planned, or a 409 hid whose content it has), a
        create of a listing that vanished, a probe, or the action as planned."""
        work, listing = job.work, job.listing
        key = work.idempotency_key
        if work.revision is not None and work.revision != job.revision:
            key = f"{key}/r{job.revision}"  # edited since planned: other content, other key
        receipt = self.receipt[work.id]
        if work.id in self.found:
            return Submission(
                UPDATE,
                job.posting,
                receipt,
                key if work.id not in self.conflict else f"{key}/r{job.revision}",
                listing.posted_at,
            )
        if work.id in self.recreate:
            return Submission(POST, job.posting, receipt, key, listing.posted_at)
        probe = (
            work.kind == POST and work.id in self.unknown and adapter.reconcile == Reconcile.UPDATE
        )
        return Submission(work.kind, job.posting, receipt, key, listing.posted_at, probe)

    async def _call(
        self, adapter: ApiAdapter[Any], subs: Sequence[Submission], bucket: TokenBucket
    ) -> list[Receipt | BoardError]:
        """The submit call's answers, one per element; an error of the whole call is each
        element's answer."""
        await bucket.take()
        try:
            answers = list(
                await board_call(
                    adapter.name,
                    adapter.submit(subs),
                    "the board may have processed the call",
                    self.x.deadline(adapter.name),
                )
            )
        except BoardError as exc:
            return [exc] * len(subs)
        except PublisherError as exc:
            return [BoardRejected(adapter.name, str(exc))] * len(subs)
        if len(answers) != len(subs):
            unknown = OutcomeUnknown(
                adapter.name, f"the board answered {len(answers)} results for {len(subs)} elements"
            )
            return [unknown] * len(subs)
        return [
            a
            if isinstance(a, Receipt | BoardError)
            else OutcomeUnknown(
                adapter.name,
                f"the {adapter.name} adapter answered a {type(a).__name__}, "
                "neither a receipt nor an error; the board may have processed it",
            )
            for a in answers
        ]

    def _answer(
        self, job: Job, sub: Submission, answer: Receipt | BoardError, adapter: ApiAdapter[Any]
    ) -> BoardError | None:
        """Settle one element on its answer; returns why it goes again (None: settled)."""
        x, work = self.x, job.work
        if isinstance(answer, Receipt):
            if sub.probe and answer.task is None:
                self.unknown.discard(work.id)
                self.found[work.id] = answer
                self._note(
                    job,
                    ActionKind.RECONCILE,
                    f"{job.listing.external_ref} is on the board: updated",
                )
            events = self.events[work.id]
            if answer.task is None:
                events.append(
                    x.event(job, work.kind, EventOutcome.OK, _ok_detail(work.kind, answer))
                )
            self._end(job, x.settle(job, answer, events, self.tries[work.id], sub.probe))
            return None
        if isinstance(answer, NotOnBoard) and work.kind == EXPIRE:
            self._end(job, x.gone(job, answer, self.events[work.id], self.tries[work.id]))
            return None
        if sub.probe and isinstance(answer, BoardRejected):  # not there: create it
            self.unknown.discard(work.id)
            self._note(
                job,
                ActionKind.RECONCILE,
                f"update refused ({answer.reason}): not on the board, creating it",
            )
            return answer
        if (
            isinstance(answer, BoardRejected)
            and answer.status == 409
            and work.kind == POST
            and adapter.can_lookup
            and work.id not in self.conflict
        ):
            self.unknown.add(work.id)  # "already exists": ours, from an earlier attempt?
            self.conflict.add(work.id)
            return OutcomeUnknown(answer.board, answer.reason, answer.status)
        if isinstance(answer, BoardUnavailable):
            if work.kind == POST and answer.status in (502, 504):
                self.unknown.add(work.id)  # a gateway error may hide a created listing
            if answer.retry_after is not None and answer.retry_after > x.max_wait:
                self._later(job, answer, timedelta(seconds=answer.retry_after))
                return None
            return answer
        if isinstance(answer, OutcomeUnknown):
            if work.kind == POST:
                self.unknown.add(work.id)  # it may exist on the board
                if adapter.tasks is not None:  # ask once it could have landed
                    self._later(job, answer, adapter.tasks.first_poll)
                    return None
            return answer
        if isinstance(answer, BoardAuthError):
            x.broken[adapter.name] = answer.reason
        self._fail(job, answer)
        return None

    def _wait_to_probe(self, job: Job, adapter: ApiAdapter[Any]) -> None:
        """A create of unknown fate (a crashed run's, a task given up) on a board that
        finishes later: probe only once the create would have been processed."""
        assert adapter.tasks is not None
        wait = adapter.tasks.first_poll
        event = self.x.event(
            job,
            ActionKind.RECONCILE,
            EventOutcome.RETRY,
            f"a create of unknown outcome: asking the board in {human(wait)} "
            "whether it arrived (an update of it)",
        )
        self._end(
            job,
            Outcome(
                job.work.id,
                job.listing.id,
                {"reconcile": True},
                {"state": WorkState.PENDING, "due_at": self.x.clock() + wait, "probe": True},
                [*self.events[job.work.id], event],
            ),
        )

    def _later(self, job: Job, exc: BoardError, wait: timedelta) -> None:
        work_id = job.work.id
        reconcile = work_id in self.unknown or work_id in self.found
        outcome = self.x.rescheduled(
            job, exc, wait, self.events[work_id], self.tries[work_id], reconcile
        )
        if reconcile and job.work.kind == POST:
            outcome.work["probe"] = True  # the next attempt asks the board first
        self._end(job, outcome)

    def _fail(self, job: Job, exc: BoardError) -> None:
        """A permanent failure; what is known of the listing on the board is kept."""
        work_id = job.work.id
        self._end(
            job,
            self.x.failed(
                job,
                exc,
                self.events[work_id],
                self.tries[work_id],
                found=self.found.get(work_id),
                unknown=work_id in self.unknown,
            ),
        )

    def _note(self, job: Job, action: str, detail: str) -> None:
        self.events[job.work.id].append(self.x.event(job, action, EventOutcome.OK, detail))

    def _ok(self, job: Job, detail: str) -> list[Event]:
        self._note(job, job.work.kind, detail)
        return self.events[job.work.id]

    def _end(self, job: Job, outcome: Outcome) -> None:
        self.outcomes[job.work.id] = outcome


def _ok_detail(kind: str, receipt: Receipt | None) -> str:
    if kind == EXPIRE or receipt is None:
        return "withdrawn from the board" if kind == EXPIRE else "done"
    where = f" at {receipt.url}" if receipt.url else ""
    pending = " (the board confirms later)" if receipt.pending else ""
    return f"board id {receipt.board_id}{where}{pending}"


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
            found = await board_call(
                adapter.name,
                adapter.poll([str(job.work.task_id) for job in jobs]),
                "polling (a read) went wrong",
                x.deadline(adapter.name),
            )
        except BoardError as exc:  # a poll is a read: the tasks wait for the next one
            if isinstance(exc, BoardAuthError):
                x.broken[adapter.name] = exc.reason
            return [
                self._waiting(job, f"poll failed: {exc.reason}", str(exc), exc.status)
                for job in jobs
            ]
        return [self._settle(job, found.get(str(job.work.task_id))) for job in jobs]

    def _settle(self, job: Job, answer: Receipt | BoardError | None) -> Outcome:
        x, work = self.x, job.work
        tasks = job.adapter.tasks  # type: ignore[attr-defined]
        now = x.clock()
        if isinstance(answer, Receipt):
            events = [x.event(job, work.kind, EventOutcome.OK, f"board task {work.task_id} done")]
            if work.probe:
                events.append(
                    x.event(
                        job,
                        ActionKind.RECONCILE,
                        EventOutcome.OK,
                        "the earlier create is on the board: adopted",
                    )
                )
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
            return self._resend(
                job,
                f"probe update failed ({answer.reason}): not on the board, creating it",
                reconcile=False,
            )
        if isinstance(answer, BoardUnavailable):
            return self._resend(
                job,
                f"board task {work.task_id} failed for now ({answer.reason}); sending it again",
                reconcile=work.kind == ActionKind.POST,
            )
        if isinstance(answer, BoardError):
            if isinstance(answer, BoardAuthError):
                x.broken[job.adapter.name] = answer.reason
            return x.failed(job, answer, [], job.listing.attempts)
        if work.task_until is not None and now >= work.task_until:
            return self._resend(
                job,
                f"board task {work.task_id} unfinished after the board's "
                f"task lifetime ({human(tasks.lifetime)}); reconciling",
                reconcile=work.kind == ActionKind.POST,
            )
        return self._waiting(
            job, f"board task {work.task_id} still in progress", None, None, counted=True
        )

    def _waiting(
        self, job: Job, detail: str, error: str | None, status: int | None, counted: bool = False
    ) -> Outcome:
        x, work = self.x, job.work
        tasks = job.adapter.tasks  # type: ignore[attr-defined]
        polls = work.polls + 1 if counted else work.polls
        wait = tasks.next_poll(polls)
        outcome = EventOutcome.OK if error is None else EventOutcome.RETRY
        event = x.event(job, work.kind, outcome, f"{detail}; next poll in {human(wait)}", status)
        return Outcome(
            work.id,
            job.listing.id,
            {"last_error": error},
            {
                "state": WorkState.PENDING,
                "due_at": x.clock() + wait,
                "polls": polls,
                "last_error": error,
            },
            [event],
        )

    def _resend(self, job: Job, detail: str, *, reconcile: bool) -> Outcome:
        """Stop waiting on the task: the work is due now and sent again (a create whose
        fate is unknown is reconciled first)."""
        x, work = self.x, job.work
        event = x.event(
            job, ActionKind.RECONCILE if work.probe else work.kind, EventOutcome.RETRY, detail
        )
        listing: ListingChange = {"reconcile": reconcile}
        if work.kind == ActionKind.UPDATE:  # not known to have landed: still to be sent
            listing["content_hash"] = None
        return Outcome(
            work.id,
            job.listing.id,
            listing,
            {
                "state": WorkState.PENDING,
                "due_at": x.clock(),
                "task_id": None,
                "task_until": None,
                "polls": 0,
                "probe": False,
            },
            [event],
        )
