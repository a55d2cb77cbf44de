"""The executor: runs claimed work against the boards and turns each result into ledger rows.

Per board: a fixed number of workers (the concurrency limit) and a token bucket (the rate
limit). Per action: tenacity retries with exponential backoff and jitter that honour
``Retry-After``; waits longer than ``max_wait`` go back to the ledger as the next due time.
A create whose outcome is unknown is never blindly resent: the next attempt first looks the
listing up by our external reference (see engine.md section 2 for the table of what is safe).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

from publisher.adapter import ApiAdapter, BoardAdapter, FileAdapter, Receipt, Reconcile
from publisher.errors import (
    BoardAuthError,
    BoardError,
    BoardRejected,
    BoardUnavailable,
    LeaseLost,
    NotOnBoard,
    OutcomeUnknown,
    PublisherError,
)
from publisher.fencing import Leases
from publisher.http import SEND_GUARD
from publisher.ledger import Event, Ledger, ListingChange, ListingRow, Outcome, WorkRow
from publisher.pages import REMOVED, UPDATED
from publisher.schema import Posting
from publisher.states import ActionKind, EventOutcome, Hold, ListingState, WorkState

__all__ = ["BoardLimit", "Executor", "Job", "Reschedule", "TokenBucket"]

logger = logging.getLogger(__name__)
T = TypeVar("T")
Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]
#: A unit of work for a board's worker: how to run it, and its jobs (one outcome each).
Unit = tuple[Callable[[list["Job"], "TokenBucket"], Awaitable[list[Outcome]]], list["Job"]]
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
MAX_ATTEMPTS = 5
#: Why a create of unknown fate is not sent again on a board that can neither be queried
#: nor tell a repeat (Reconcile.MANUAL): a person decides.
CHECK_THE_BOARD = ("the create may have reached the board, which can neither be queried nor "
                   "tell a repeat: check the board, then run jobpub sync --retry-failed to "
                   "create it (or close it there)")
MAX_RETRY_SECONDS = 300
BACKOFF = wait_exponential_jitter(initial=1, max=60, jitter=1)


class Reschedule(Exception):
    """The board asked for a wait longer than we hold a worker for: come back later."""

    def __init__(self, seconds: float, cause: BoardError):
        super().__init__(str(cause))
        self.seconds = seconds
        self.cause = cause


@dataclass(frozen=True)
class BoardLimit:
    concurrency: int = 4
    rate_per_second: float | None = None
    burst: int = 1


@dataclass
class Job:
    """One claimed work row with what it needs: the listing, the posting, the adapter."""

    work: WorkRow
    listing: ListingRow
    posting: Posting
    revision: int
    content_hash: str
    adapter: BoardAdapter[Any]
    default_duration: timedelta


class _Lane:
    """One board's units of work waiting, its workers and its rate limit."""

    def __init__(self, concurrency: int, bucket: TokenBucket) -> None:
        self.concurrency, self.bucket = concurrency, bucket
        self.units: deque[Unit] = deque()
        self.workers: list[asyncio.Future[None]] = []
        self.wake = asyncio.Event()  # set when units arrive or no more will
        self.expiries = 0  # how many units at the front are expiries


class TokenBucket:
    """``rate`` calls a second on average, up to ``burst`` at once (time from ``clock``)."""

    def __init__(self, rate: float | None, burst: int, clock: Clock, sleep: Sleep) -> None:
        self.rate, self.burst, self.clock, self.sleep = rate, max(1, burst), clock, sleep
        self.tokens = float(self.burst)
        self.stamp = clock()
        self.lock = asyncio.Lock()

    async def take(self) -> None:
        if not self.rate:
            return
        async with self.lock:
            now = self.clock()
            elapsed = max(0.0, (now - self.stamp).total_seconds())
            self.tokens = min(self.burst, self.tokens + elapsed * self.rate)
            self.stamp = now
            if self.tokens < 1:
                await self.sleep((1 - self.tokens) / self.rate)
                self.tokens, self.stamp = 0.0, self.clock()
            else:
                self.tokens -= 1


def _classify(exc: Exception, board: str) -> Exception:
    """httpx errors as the error tree: nothing sent -> retry; maybe processed -> unknown."""
    if isinstance(exc, NOT_SENT):
        return BoardUnavailable(board, f"{type(exc).__name__}: nothing was sent")
    if isinstance(exc, httpx.HTTPError):
        return OutcomeUnknown(board, f"{type(exc).__name__}: the board may have processed it")
    return exc


async def board_call(board: str, call: Awaitable[T], what: str,
                     deadline: float | None = None) -> T:
    """An adapter's call with every failure in the error tree: httpx errors classified, and
    an unexpected exception an unknown outcome (``what`` says what the board may have done).
    ``deadline``: seconds the whole call may take (connect, send, every read of a dripping
    answer); past it, the outcome is unknown."""
    try:
        async with asyncio.timeout(deadline):
            return await call
    except TimeoutError:
        raise OutcomeUnknown(board, f"no whole answer within the call's {deadline:g} s "
                                    "deadline; the board may have processed it") from None
    except httpx.HTTPError as exc:
        raise _classify(exc, board) from None
    except (PublisherError, LeaseLost):
        raise
    except Exception as exc:
        raise OutcomeUnknown(board, f"{type(exc).__name__} in the {board} adapter; "
                                    f"{what}") from None


def _wait(state: RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, BoardUnavailable) and exc.retry_after is not None:
        return exc.retry_after
    return float(BACKOFF(state))


def retry_delay(attempts: int) -> timedelta:
    """When to come back after retries ran out in this run: 5 min, doubling, at most 6 h."""
    return timedelta(minutes=min(360, 5 * 2 ** max(0, attempts - 1)))


class Executor:
    """Runs jobs; a writer task records outcomes in the ledger in batches as they finish,
    off the event loop, so board calls keep going while the database writes."""

    def __init__(self, ledger: Ledger, clock: Clock, sleep: Sleep, *, max_wait: float = 120.0,
                 batch: int = 500, window: float = 0.2,
                 progress: Callable[[Job, Outcome, float], None] | None = None,
                 added: Callable[[int], None] | None = None,
                 stopping: asyncio.Event | None = None, leases: Leases | None = None,
                 deadline: Callable[[str], float] | None = None) -> None:
        self.ledger, self.clock, self.sleep = ledger, clock, sleep
        self.leases = leases  # the claims' leases: renewed while running, checked per call
        self.deadline = deadline or (lambda board: 60.0)  # seconds one board call may take
        self.stopping = stopping  # once set, no unit is started (a worker asked to stop)
        self.max_wait, self.batch, self.progress = max_wait, batch, progress
        self.window = window  # seconds a batch of outcomes may gather before it is written
        self.broken: dict[str, str] = {}  # board -> auth failure seen in this run
        self.held: list[Outcome] = []  # feed and page boards: recorded after their files
        self.notes: list[str] = []  # outcomes the ledger could not take whole
        self._outcomes: asyncio.Queue[Outcome | None] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self.added = added  # told how many jobs the run has had so far, as they arrive
        self.queued = 0

    async def run(self, jobs: list[Job], limits: dict[str, BoardLimit],
                  more: asyncio.Queue[list[Job] | None] | None = None) -> None:
        """Run every job; each outcome goes to the ledger (in batches) and to ``progress``.

        Per board the jobs become units of work: a job alone, a batch (boards declaring
        ``batch_size``) or a poll of several tasks (boards declaring ``tasks``). ``jobs`` is
        consumed (emptied), so a finished job's memory is freed as the run goes. ``more``:
        further jobs arrive there while the run goes (a sync still planning), until None;
        each board keeps its concurrency limit over all of them.
        """
        self._limits, self._open = limits, more is not None
        self._lanes: dict[str, _Lane] = {}
        self._add(jobs)
        writer = self._writer = asyncio.create_task(self._write())
        beat = asyncio.create_task(self.leases.beat()) if self.leases is not None else None
        try:
            if more is not None:
                while (arrived := await more.get()) is not None:
                    self._add(arrived)
                self._open = False
                for lane in self._lanes.values():
                    lane.wake.set()
            await asyncio.gather(*[w for lane in self._lanes.values() for w in lane.workers])
        finally:
            if beat is not None:
                beat.cancel()
            for lane in self._lanes.values():  # cancelled: no worker outlives the run
                for worker in lane.workers:
                    worker.cancel()
            self._outcomes.put_nowait(None)
            try:
                await writer  # re-raises a failed write: the run stops there
            finally:  # stopped early: what was never started goes back, untouched
                self._give_back([job.work.id for lane in self._lanes.values()
                                 for _, left in lane.units for job in left])

    def _add(self, jobs: list[Job]) -> None:
        """Queue jobs on their boards' lanes; start workers up to each board's limit."""
        from publisher.batches import units

        by_board: dict[str, list[Job]] = {}
        for job in jobs:
            by_board.setdefault(job.listing.board, []).append(job)
            if self.leases is not None:
                self.leases.add(job.work)
        jobs.clear()
        for board, mine in by_board.items():
            lane = self._lanes.get(board)
            if lane is None:
                limit = self._limits.get(board, BoardLimit())
                lane = self._lanes[board] = _Lane(limit.concurrency, TokenBucket(
                    limit.rate_per_second, limit.burst, self.clock, self.sleep))
            for unit in units(self, mine):  # expiries first (they arrive after others)
                if all(job.work.kind == ActionKind.EXPIRE for job in unit[1]):
                    lane.units.insert(lane.expiries, unit)
                    lane.expiries += 1
                else:
                    lane.units.append(unit)
            lane.wake.set()
            while len(lane.workers) < min(lane.concurrency, len(lane.units)):
                lane.workers.append(asyncio.ensure_future(self._worker(lane)))
        self.queued += sum(len(mine) for mine in by_board.values())
        if self.added is not None:
            self.added(self.queued)

    def _give_back(self, work_ids: list[int]) -> None:
        if not work_ids:
            return
        try:
            self.ledger.release(work_ids, self.leases.owner if self.leases else None)
        except Exception:  # the ledger is failing: their leases lapse, and they are taken over
            self.notes.append(f"stopping: {len(work_ids)} action(s) not started are left to "
                              "their lease")
        else:
            self.notes.append(f"stopping: {len(work_ids)} action(s) not started were given "
                              "back for the next run")

    async def _worker(self, lane: _Lane) -> None:
        loop = asyncio.get_running_loop()
        while not (self.stopping is not None and self.stopping.is_set()):
            if not lane.units:
                if not self._open:
                    return
                lane.wake.clear()  # more may come: wait for it (or for the end)
                await lane.wake.wait()
                continue
            if self._writer is not None and self._writer.done():
                return  # the ledger cannot be written: call no board we cannot record
            run, jobs = lane.units.popleft()
            lane.expiries = max(0, lane.expiries - 1)
            started = loop.time()
            outcomes = await self._unit(run, jobs, lane.bucket)
            for job, outcome in zip(jobs, outcomes, strict=True):
                outcome.fence = job.work.fence
                if isinstance(job.adapter, FileAdapter):
                    self.held.append(outcome)  # recorded once the board's files are written
                else:
                    self._outcomes.put_nowait(outcome)
                if self.progress is not None:
                    self.progress(job, outcome, loop.time() - started)

    async def _unit(self, run: Callable[[list[Job], TokenBucket], Awaitable[list[Outcome]]],
                    jobs: list[Job], bucket: TokenBucket) -> list[Outcome]:
        """One unit of work, sent only while this run still holds every job's lease (checked
        now, and again before each request leaves); a job whose work was taken over by
        another worker is not sent, and its outcome is recorded as a stale attempt."""
        if self.leases is None:
            return await self._guarded(run, jobs, bucket)
        deadline = self.deadline(jobs[0].adapter.name)
        lost = await self.leases.check([job.work.id for job in jobs], deadline)
        mine = [job for job in jobs if job.work.id not in lost]
        done = {id(job): self._not_sent(job) for job in jobs if job.work.id in lost}
        if mine:
            token = SEND_GUARD.set(self.leases.guard([job.work.id for job in mine], deadline))
            try:
                done.update(zip(map(id, mine), await self._guarded(run, mine, bucket),
                                strict=True))
            except LeaseLost:
                done.update((id(job), self._not_sent(job)) for job in mine)
            finally:
                SEND_GUARD.reset(token)
        return [done[id(job)] for job in jobs]

    async def _guarded(self, run: Callable[[list[Job], TokenBucket], Awaitable[list[Outcome]]],
                       jobs: list[Job], bucket: TokenBucket) -> list[Outcome]:
        """The unit's outcomes; an exception no handler expected fails its jobs (after
        logging it), a create among them marked to be looked up before any resend."""
        try:
            return await run(jobs, bucket)
        except LeaseLost:
            raise
        except Exception as exc:
            logger.exception("%s: unexpected %s while running %s", jobs[0].adapter.name,
                             type(exc).__name__, ", ".join(f"#{j.work.id}" for j in jobs))
            outcomes = []
            for job in jobs:
                outcome = self.failed(job, BoardError(
                    job.adapter.name, f"{type(exc).__name__} while running {job.work.kind}"),
                    [], job.listing.attempts + 1)
                if job.work.kind == ActionKind.POST:
                    outcome.listing["reconcile"] = True  # it may be on the board: look first
                outcomes.append(outcome)
            return outcomes

    def _not_sent(self, job: Job) -> Outcome:
        """A job whose lease passed to another worker before its call: nothing was sent by
        this attempt. Recorded only as a stale attempt (the fence no longer matches); were
        it still this run's, the work would simply be due again (a create looked up first,
        since an earlier attempt of this run may have reached the board)."""
        event = self.event(job, job.work.kind, EventOutcome.STALE,
                           "nothing sent: the lease had passed to another worker")
        listing: ListingChange = {"reconcile": True} if job.work.kind == ActionKind.POST \
            else {}
        return Outcome(job.work.id, job.listing.id, listing,
                       {"state": WorkState.PENDING, "due_at": self.clock()}, [event])

    async def one(self, jobs: list[Job], bucket: TokenBucket) -> list[Outcome]:
        """A unit of one job."""
        return [await self.execute(jobs[0], bucket)]

    async def _write(self) -> None:
        """Record outcomes in batches until None: a batch is what arrives within ``window``
        seconds of its first outcome (or ``batch`` outcomes), so the database commits a few
        large transactions rather than many small ones. An outcome not yet written when the
        process dies is settled as any unrecorded call is: its lease lapses, and the next
        run reconciles it before doing anything again."""
        loop = asyncio.get_running_loop()
        while True:
            batch: list[Outcome] = []
            item = await self._outcomes.get()
            until = loop.time() + self.window
            while item is not None:
                batch.append(item)
                if len(batch) >= self.batch:
                    break
                if self._outcomes.empty():
                    left = until - loop.time()
                    if left <= 0:
                        break
                    try:
                        item = await asyncio.wait_for(self._outcomes.get(), left)
                    except TimeoutError:
                        break
                    continue
                item = self._outcomes.get_nowait()
            if batch:
                self.notes += await asyncio.to_thread(self.ledger.record, batch)
                if self.leases is not None:
                    self.leases.done(o.work_id for o in batch)
            if item is None:
                return

    async def execute(self, job: Job, bucket: TokenBucket) -> Outcome:
        if isinstance(job.adapter, FileAdapter):
            return self._file(job, job.adapter)
        if isinstance(job.adapter, ApiAdapter):
            return await self._api(job, job.adapter, bucket)
        raise TypeError(f"{job.adapter.name}: neither an API nor a file adapter")

    # -- outcomes ------------------------------------------------------------------------
    def event(self, job: Job, action: str, outcome: str, detail: str,
               status: int | None = None) -> Event:
        return Event(self.clock(), job.listing.posting_id, job.listing.board, action, outcome,
                     detail, status)

    def _expiry(self, job: Job, posted: datetime) -> datetime:
        return (job.posting.expiry_time() or posted + job.default_duration).astimezone(UTC)

    def done(self, job: Job, receipt: Receipt | None, events: list[Event],
              attempts: int) -> Outcome:
        now, kind, listing = self.clock(), job.work.kind, job.listing
        values: ListingChange = {"changed_at": now, "last_error": None, "reconcile": False,
                                 "attempts": attempts}
        if receipt is not None:
            values.update({"board_id": receipt.board_id, "url": receipt.url})
        if kind == ActionKind.POST:
            values.update({
                "hold": None,  # restored or reopened: back to following the file
                "state": ListingState.PENDING if receipt and receipt.pending
                else ListingState.LIVE,
                "posted_at": now, "refreshed_at": None, "refresh_count": 0, "expired_at": None,
                "revision": job.revision, "content_hash": job.content_hash,
                "expires_at": self._expiry(job, now)})
        elif kind == ActionKind.UPDATE:
            values.update({"state": ListingState.LIVE, "revision": job.revision,
                           "content_hash": job.content_hash,
                           "expires_at": self._expiry(job, listing.posted_at or now)})
        elif kind == ActionKind.REFRESH:
            values.update({"refreshed_at": now, "refresh_count": listing.refresh_count + 1})
        else:  # held as the expire says: by hand, or its file or board removed (or not)
            values.update({"state": ListingState.EXPIRED, "expired_at": now,
                           "hold": Hold.MANUAL if listing.hold == Hold.MANUAL
                           else job.work.hold})
        if isinstance(job.adapter, FileAdapter) and job.adapter.announces:
            was_public = listing.state in (ListingState.LIVE, ListingState.PENDING)
            if kind != ActionKind.EXPIRE:
                values["notify"] = UPDATED
            elif was_public:
                values["notify"] = REMOVED
        return Outcome(job.work.id, listing.id, values,
                       {"state": WorkState.DONE, "last_error": None}, events)

    def settle(self, job: Job, receipt: Receipt | None, events: list[Event], attempts: int,
               probe: bool = False) -> Outcome:
        """The action's answer: done, or accepted as a task the board finishes later."""
        if receipt is None or receipt.task is None:
            return self.done(job, receipt, events, attempts)
        tasks = getattr(job.adapter, "tasks", None)
        if tasks is None:
            return self.failed(job, BoardError(job.adapter.name, "answered with a task id "
                                                "but declares no tasks to poll"), events,
                                attempts)
        now, kind = self.clock(), job.work.kind
        first = now + tasks.first_poll
        what = "update sent to find out whether an earlier create reached the board" \
            if probe else f"{kind} accepted"
        events.append(self.event(job, kind, EventOutcome.OK,
                                 f"{what}; board task {receipt.task}, first poll in "
                                 f"{human(tasks.first_poll)}"))
        values: ListingChange = {"attempts": attempts, "last_error": None, "changed_at": now,
                                 "reconcile": probe}
        if kind == ActionKind.POST and not probe:
            values.update({"state": ListingState.PENDING})
        if kind in (ActionKind.POST, ActionKind.UPDATE) and not probe:  # what was sent
            values.update({"revision": job.revision, "content_hash": job.content_hash})
        return Outcome(job.work.id, job.listing.id, values,
                       {"state": WorkState.PENDING, "due_at": first, "task_id": receipt.task,
                        "task_until": now + tasks.lifetime, "polls": 0, "probe": probe,
                        "last_error": None}, events)

    def gone(self, job: Job, error: NotOnBoard, events: list[Event], attempts: int) -> Outcome:
        """A withdrawal of a job the board no longer has open: withdrawn, and said so."""
        events.append(self.event(job, ActionKind.EXPIRE, EventOutcome.OK,
                                 f"already closed on the board ({error.reason}): counted as "
                                 "withdrawn", error.status))
        return self.done(job, None, events, attempts)

    def failed(self, job: Job, error: BoardError, events: list[Event], attempts: int,
                call: _Call | None = None) -> Outcome:
        """A permanent failure; what is known of the listing on the board is kept (a create
        found there, or one whose outcome is unknown, is never made again)."""
        reason = str(error)
        events.append(self.event(job, job.work.kind, EventOutcome.FAILED, error.reason,
                                 error.status))
        values: ListingChange = {
            "state": ListingState.FAILED, "last_error": reason, "attempts": attempts,
            "revision": job.revision, "content_hash": job.content_hash,
            "changed_at": self.clock()}
        if call is not None and call.adopted:
            values.update({"board_id": call.receipt.board_id, "url": call.receipt.url})
        elif call is not None and call.reconcile:
            values.update({"reconcile": True})
        return Outcome(job.work.id, job.listing.id, values,
                       {"state": WorkState.FAILED, "last_error": reason}, events)

    def rescheduled(self, job: Job, error: BoardError, wait: timedelta, events: list[Event],
                     attempts: int, reconcile: bool) -> Outcome:
        due = self.clock() + wait
        events.append(self.event(job, job.work.kind, "retry",
                                  f"{error.reason}; next attempt in {human(wait)}",
                                  error.status))
        return Outcome(job.work.id, job.listing.id,
                       {"last_error": str(error), "attempts": attempts, "reconcile": reconcile},
                       {"state": WorkState.PENDING, "due_at": due, "last_error": str(error)},
                       events)

    # -- feed and page boards --------------------------------------------------------------
    def _file(self, job: Job, adapter: FileAdapter[Any]) -> Outcome:
        receipt = adapter.receipt(job.posting, job.listing.external_ref) \
            if job.work.kind != ActionKind.EXPIRE else None
        detail = {"post": "added to the board's files", "update": "changed in the board's files",
                  "refresh": "date renewed in the board's files",
                  "expire": "removed from the board's files"}[job.work.kind]
        event = self.event(job, job.work.kind, "ok", detail)
        return self.done(job, receipt, [event], job.listing.attempts + 1)

    # -- API boards ----------------------------------------------------------------------
    async def _api(self, job: Job, adapter: ApiAdapter[Any], bucket: TokenBucket) -> Outcome:
        listing, kind = job.listing, job.work.kind
        if adapter.name in self.broken:
            return self.failed(job, BoardAuthError(adapter.name, self.broken[adapter.name]),
                                [], listing.attempts)
        call = _Call(self, job, adapter, bucket)
        if kind == ActionKind.EXPIRE and listing.board_id is None and not listing.reconcile:
            call.events.append(self.event(job, kind, "ok", "was never on the board"))
            return self.done(job, None, call.events, listing.attempts)

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            wait = state.next_action.sleep if state.next_action else 0.0
            if isinstance(exc, BoardError):
                call.events.append(self.event(job, kind, "retry",
                                               f"{exc.reason}; retrying in {wait:.1f} s",
                                               exc.status))

        async def retried(first: BoardUnavailable | OutcomeUnknown) -> Receipt | None:
            """Attempts after a first one failed for a reason worth retrying; tenacity is
            handed that failure as its first attempt (most calls succeed at once, and its
            bookkeeping costs ~30 µs a call)."""
            failed: list[Exception] = [first]
            async for trial in AsyncRetrying(
                    stop=stop_after_attempt(MAX_ATTEMPTS) | stop_after_delay(MAX_RETRY_SECONDS),
                    wait=_wait, retry=retry_if_exception_type((BoardUnavailable, OutcomeUnknown)),
                    sleep=self.sleep, before_sleep=before_sleep, reraise=True):
                with trial:
                    if failed:
                        raise failed.pop()
                    return await call.once()
            raise AssertionError("tenacity ends by returning or raising")  # pragma: no cover

        try:
            try:
                result = await call.once()
            except (BoardUnavailable, OutcomeUnknown) as exc:
                result = await retried(exc)
        except Reschedule as exc:
            return self.rescheduled(job, exc.cause, timedelta(seconds=exc.seconds),
                                     call.events, call.attempts, call.reconcile or call.adopted)
        except (BoardUnavailable, OutcomeUnknown) as exc:
            return self.rescheduled(job, exc, retry_delay(job.work.attempts), call.events,
                                     call.attempts, call.reconcile or call.adopted)
        except NotOnBoard as exc:
            if kind != ActionKind.EXPIRE:
                return self.failed(job, exc, call.events, call.attempts, call)
            return self.gone(job, exc, call.events, call.attempts)
        except BoardError as exc:
            if isinstance(exc, BoardAuthError):
                self.broken[adapter.name] = exc.reason
            return self.failed(job, exc, call.events, call.attempts, call)
        except PublisherError as exc:
            return self.failed(job, BoardError(adapter.name, str(exc)), call.events,
                                call.attempts, call)
        if result is not None and result.task is not None:
            return self.settle(job, result, call.events, call.attempts, call.probe)
        call.events.append(self.event(job, kind, "ok", _ok_detail(kind, result)))
        return self.done(job, result or call.receipt, call.events, call.attempts)


class _Call:
    """One action on an API board, attempt by attempt: what is known so far about the
    listing (its receipt, whether it must be looked up first) and the audit events."""

    def __init__(self, executor: Executor, job: Job, adapter: ApiAdapter[Any],
                 bucket: TokenBucket) -> None:
        self.executor, self.job, self.adapter, self.bucket = executor, job, adapter, bucket
        listing = job.listing
        self.receipt = Receipt(adapter.name, listing.external_ref, listing.board_id, listing.url)
        self.reconcile = listing.reconcile
        self.attempts = listing.attempts
        self.looked_up = False
        self.adopted = False  # a create found on the board: never create it again
        self.conflict = False  # the board said the listing exists (409)
        self.probe = False  # an update sent to learn whether a lost create reached the board
        self.events: list[Event] = []

    async def once(self) -> Receipt | None:
        """One attempt: errors come out as the error tree, flagged for reconciling."""
        kind = self.job.work.kind
        self.attempts += 1
        await self.bucket.take()
        try:
            return await board_call(self.adapter.name, self._act(),
                                    "the board may have processed the call",
                                    self.executor.deadline(self.adapter.name))
        except BoardUnavailable as exc:
            if exc.retry_after is not None and exc.retry_after > self.executor.max_wait:
                raise Reschedule(exc.retry_after, exc) from None
            if kind == ActionKind.POST and exc.status in (502, 504):
                self.reconcile = True  # a gateway error may hide a created listing
            raise
        except OutcomeUnknown as exc:
            self.reconcile = self.reconcile or kind == ActionKind.POST  # it may exist on the board
            tasks = self.adapter.tasks
            if tasks is not None and kind == ActionKind.POST:  # ask once it could have landed
                raise Reschedule(tasks.first_poll.total_seconds(), exc) from None
            raise
        except BoardRejected as exc:
            if kind == ActionKind.POST and exc.status == 409 and not self.looked_up \
                    and self.adapter.can_lookup:
                self.reconcile = self.conflict = True  # "already exists": ours, earlier?
                raise OutcomeUnknown(exc.board, exc.reason, exc.status) from None
            raise

    async def _act(self) -> Receipt | None:
        """The action, after a lookup when a create may already have reached the board.

        Only a board that can be queried is asked; on any other the action is repeated
        under the same idempotency key (a takeover after a crash does the same).
        """
        job, adapter, kind = self.job, self.adapter, self.job.work.kind
        ref, key = self.receipt.external_ref, job.work.idempotency_key
        if job.work.revision is not None and job.work.revision != job.revision:
            key = f"{key}/r{job.revision}"  # edited since planned: other content, other key
        if self.reconcile and adapter.reconcile == Reconcile.UPDATE and kind == ActionKind.POST:
            return await self._probe(ref, key)
        if self.reconcile and adapter.reconcile == Reconcile.MANUAL and \
                kind == ActionKind.POST and job.listing.state != ListingState.FAILED:
            raise BoardRejected(adapter.name, CHECK_THE_BOARD)
        if self.reconcile and adapter.can_lookup:
            found = await adapter.lookup(ref)
            self.reconcile, self.looked_up = False, True
            where = f"found on the board as {found.board_id}" if found else "not on the board"
            self.events.append(self.executor.event(job, "reconcile", "ok",
                                                    f"looked up {ref}: {where}"))
            if found is not None:
                self.receipt = found
                self.adopted = kind == ActionKind.POST  # made by an earlier attempt
            elif kind == ActionKind.EXPIRE:
                return None
            elif kind != ActionKind.POST:
                return await adapter.publish(job.posting, ref, key=key)  # vanished: put back
        if kind == ActionKind.POST and self.adopted:
            # Made by an earlier attempt of this work: the same content unless the posting
            # changed since it was planned, or it was found after a 409 (whose content we
            # cannot know). Then this revision is sent.
            if job.work.revision == job.revision and not self.conflict:
                return self.receipt
            return await adapter.update(job.posting, self.receipt, key=key)
        if kind == ActionKind.POST:
            return await adapter.publish(job.posting, ref, key=key)
        if kind == ActionKind.UPDATE:
            return await adapter.update(job.posting, self.receipt, key=key)
        if kind == ActionKind.REFRESH:
            return await adapter.refresh(job.posting, self.receipt, key=key)
        await adapter.withdraw(self.receipt, key=key)
        return None

    async def _probe(self, ref: str, key: str) -> Receipt | None:
        """A board without lookup that refuses updates of listings it does not have: an
        update settles a lost create (done if it lands; refused -> create it now)."""
        job, adapter = self.job, self.adapter
        self.probe = True
        try:
            found = await adapter.update(job.posting, self.receipt, key=key)
        except BoardRejected as exc:
            self.events.append(self.executor.event(
                job, ActionKind.RECONCILE, EventOutcome.OK,
                f"update of {ref} refused ({exc.reason}): not on the board, creating it"))
            self.probe = self.reconcile = False
            return await adapter.publish(job.posting, ref, key=key)
        if found.task is None:
            self.probe = self.reconcile = False
            self.adopted = True
            self.events.append(self.executor.event(job, ActionKind.RECONCILE, EventOutcome.OK,
                                                    f"{ref} is on the board: updated"))
        return found


def human(wait: timedelta) -> str:
    """A wait as a person reads it (zone-free: history shows it in any time zone)."""
    seconds = int(wait.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds / 3600:g} h"


def _ok_detail(kind: str, receipt: Receipt | None) -> str:
    if receipt is None:
        return "withdrawn from the board" if kind == ActionKind.EXPIRE else "done"
    where = f" at {receipt.url}" if receipt.url else ""
    pending = " (the board confirms later)" if receipt.pending else ""
    return f"board id {receipt.board_id}{where}{pending}"
