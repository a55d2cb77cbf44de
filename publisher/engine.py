"""The engine: load postings, plan, queue due work, execute it, write feed and page files.

``sync`` (cron) and ``run`` (the scheduler's tick) go through :meth:`Engine.sync`,
``expire`` through :meth:`Engine.expire_now`; ``plan`` is ``load`` + ``plan`` without writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from publisher.adapter import BoardAdapter, FileAdapter, RefreshPolicy, external_ref
from publisher.config import Config
from publisher.errors import ConfigError, PublisherError, UnknownPosting, UsageError
from publisher.executor import BoardLimit, Clock, Executor, Job, Sleep
from publisher.fencing import Leases
from publisher.http import Clients
from publisher.ledger import (
    Event,
    Ledger,
    ListingRow,
    Outcome,
    PostingRow,
    WorkRow,
    owner_id,
)
from publisher.pages import (
    BoardFiles,
    announce,
    fingerprint,
    output_dir,
    unchanged,
    write_board_files,
)
from publisher.planner import Action, Desired, plan
from publisher.problems import Finding
from publisher.redact import remember
from publisher.render import cache_in, flush_cache
from publisher.retry import human
from publisher.rules import RuleContext
from publisher.schema import Posting
from publisher.states import ActionKind, EventOutcome, Hold, ListingState, WorkState
from publisher.sync_result import Done, Loaded, Progress, SyncResult, Takeover, fewer_collections

if TYPE_CHECKING:
    from publisher.registry import Board

__all__ = ["Done", "Engine", "Loaded", "Progress", "SyncResult"]  # (the results re-exported)


def _utcnow() -> datetime:
    from publisher import clock

    return clock.now()  # looked up at each call: tests replace publisher.clock.now


#: A posting the ledger does not know yet (for comparisons).
_NO_ROW = PostingRow("", 0, "", "file", "UTC", None, None, "", None, datetime.min)


def _unchanged(
    found: list[Path], stems: Counter[str], known: Mapping[str, PostingRow], hashes: dict[str, str]
) -> set[str]:
    """The files whose bytes (and the config) are what they were when last recorded valid,
    at the same path, with no other file of their name."""
    return {
        path.stem
        for path in found
        if stems[path.stem] == 1
        and (row := known.get(path.stem)) is not None
        and row.source == "file"
        and row.path == str(path)
        and row.removed_at is None
        and row.source_hash == hashes.get(str(path))
    }


def _duplicate(path: Path, other: Path) -> Finding:
    from publisher.loader import Locator, read_text

    try:
        pos = Locator(read_text(path)).position(("id",))
        line, column = pos.line, pos.column
    except Exception:
        line, column = None, None
    return Finding(
        str(path),
        line,
        column,
        "error",
        "duplicate-id",
        f"id '{path.stem}' is also used by {other}; this copy is not published",
    )


class Engine:
    def __init__(
        self,
        config: Config,
        ledger: Ledger,
        *,
        registry: Mapping[str, Board] | None = None,
        clock: Clock = _utcnow,
        sleep: Sleep = asyncio.sleep,
        clients: Clients | None = None,
        owner: str | None = None,
        max_wait: float = 120.0,
        claim_size: int | None = None,
    ) -> None:
        from publisher.registry import Adapters
        from publisher.registry import boards as _boards

        self.config, self.ledger = config, ledger
        self.registry = dict(registry if registry is not None else _boards())
        self.clock, self.sleep, self.max_wait = clock, sleep, max_wait
        self.claim_size = claim_size  # None: a sync claims all due work at once
        self.full_every: timedelta | None = None  # run: a full plan this often (one worker)
        self.clients = clients or Clients(max_bytes=config.engine.max_answer_bytes)
        self.owner = owner or owner_id()
        self.lease = timedelta(seconds=config.engine.lease_seconds)
        self.stopping = asyncio.Event()  # set: start no more work (a worker asked to stop)
        self.adapters = Adapters(config, self._client_for, self.registry, clock)
        cache_in(Path(config.cache_dir))  # descriptions rendered once, kept by content hash
        for table in config.boards.values():  # every configured secret is masked in reasons
            for key, name in table.items():
                if key.endswith("_env") and isinstance(name, str):
                    remember(os.environ.get(name))

    # -- adapters ------------------------------------------------------------------------
    def limit(self, board: str) -> BoardLimit:
        cls = self.registry[board]
        own = self.config.limits.get(board)
        concurrency = (own and own.concurrency) or cls.concurrency
        rate = (own and own.rate_per_second) or cls.rate_per_second
        return BoardLimit(concurrency, rate, (own and own.burst) or concurrency)

    def adapter(self, board: str, posting: Posting | None = None) -> BoardAdapter[Any]:
        """The board's adapter with its HTTP client (per-posting overrides applied)."""
        return self.adapters.get(board, posting.board_overrides(board) if posting else None)

    def _client_for(self, board: str) -> Any:
        """A factory of the board's HTTP client (made on first use, shared by its adapters)."""
        concurrency = self.limit(board).concurrency
        own = self.config.limits.get(board)
        timeout = (own.timeout if own else None) or getattr(self.registry[board], "timeout", None)
        return lambda: self.clients.get(board, concurrency, timeout)

    @property
    def default_duration(self) -> timedelta:
        return timedelta(days=self.config.default_duration_days)

    def policies(self) -> dict[str, RefreshPolicy]:
        return {name: cls.refresh_policy for name, cls in self.registry.items()}

    # -- desired state -------------------------------------------------------------------
    @functools.cached_property
    def _fingerprint(self) -> bytes:
        """What a file's validity depends on besides its bytes (in sync, not the time), and
        what a plan is made with: jobpub's version, the boards, the config (fixed for this
        engine, so worked out once; a tick uses it three times)."""
        from importlib.metadata import PackageNotFoundError, version

        try:
            ours = version("jobpub")
        except PackageNotFoundError:
            ours = "dev"
        text = f"{ours}|{','.join(sorted(self.registry))}|{self.config.model_dump_json()}"
        return hashlib.sha256(text.encode()).digest()

    def load(
        self,
        paths: Sequence[Path] = (),
        *,
        write: bool = True,
        lazy: bool = False,
        each: Callable[[Loaded], None] | None = None,
    ) -> Loaded:
        """Validate the posting files; record valid ones (``write``) as new revisions.

        A file whose bytes (and the config) are what they were when it was last recorded
        valid is not parsed again: its recorded content is used — or, ``lazy``, not even
        read (``Loaded.unread``); then a file whose size, modification time and inode are
        what they were (and not modified in the last two seconds) is not read either.

        ``each`` (with ``write``): when the validation pool checks many files, each share
        of them it finishes is recorded at once and given to ``each`` as a Loaded of its
        valid postings — those no other file can claim the id of (see
        :func:`publisher.streaming.claims`) — while the pool goes on with the rest. Their
        ids are ``Loaded.streamed`` of what is returned.
        """
        from publisher.incremental import plan_fingerprint, set_stats
        from publisher.validate import PARALLEL_FROM, Report, discover, validate_paths

        roots = list(paths) or [Path(self.config.postings_dir)]
        missing = [str(p) for p in roots if not p.exists()]
        if missing and paths:
            raise UsageError(f"no such file or folder: {', '.join(missing)}")
        roots = [p for p in roots if p.exists()]
        now = self.clock()
        # Lazy: the files' postings only (queued ones are read when planned).
        known = self.ledger.postings(light=True, source="file") if lazy else self.ledger.postings()
        if not roots and not (
            self.ledger.queued()
            if lazy
            else any(r.source == "queue" and r.removed_at is None for r in known.values())
        ):
            raise UsageError(
                f"no postings folder {self.config.postings_dir}/ and nothing "
                "queued: run jobpub in the project folder"
            )
        found = discover(roots)
        strays = self._strays(found) if paths else []
        found = [path for path in found if path not in {f for f, _ in strays}]
        files = {path.stem: str(path) for path in found}
        stems = Counter(path.stem for path in found)
        same = lazy and plan_fingerprint(self.ledger) == self._fingerprint.hex()
        hashes, stats, own, claimed = self._hash_files(found, known, same, each is not None)
        unchanged = _unchanged(found, stems, known, hashes)
        ctx = RuleContext.of(self.config, now, expired_is_error=False)
        check = [path for path in found if path.stem not in unchanged]
        revisions: dict[str, tuple[int, str]] = {}

        def record(checked: list[Posting]) -> None:
            items = [(p, "file", files.get(p.id), hashes.get(files.get(p.id, ""))) for p in checked]
            if lazy:  # a file may now hold what was queued: compared with its recorded row
                known.update(
                    self.ledger.postings(light=True, ids={p.id for p in checked} - set(known))
                )
            revisions.update(self.ledger.save_postings(items, now, write=write, known=known))

        streamed: dict[str, Desired] = {}
        # Streamed: files whose id is theirs alone (no other file has their name or an id
        # line giving it; none has an id line that says nothing plainly), when the pool is
        # used and no file given as PATH is a stray (those are judged with the rest).
        own = (
            {stem for stem in own if stems[stem] == 1 and claimed[stem] == 1}
            if each is not None
            and write
            and not strays
            and not claimed[None]
            and len(check) >= PARALLEL_FROM
            else set()
        )

        def share(part: Report) -> None:
            ready = [p for p in part.postings if p.id in own]
            if ready:
                record(ready)
                mine = {p.id: Desired(p, *revisions[p.id]) for p in ready}
                streamed.update(mine)
                assert each is not None
                each(Loaded(mine, [], set(), set(), known, lazy=lazy))

        report = (
            validate_paths(check, self.config, ctx, keep=True, each=share if own else None)
            if check
            else None
        )
        checked = [p for p in report.postings if p.id not in streamed] if report else []
        held = {p.stem for p in report.invalid} if report else set()
        held |= {path.stem for path, _ in strays}
        record(checked)
        if write:  # the stat of each file now recorded valid (never of an invalid one)
            valid = (unchanged | set(revisions)) - held
            set_stats(
                self.ledger,
                {
                    pid: stat
                    for pid, stat in stats.items()
                    if pid in valid and known.get(pid, _NO_ROW).source_stat != stat
                },
            )
        desired = {p.id: Desired(p, *revisions[p.id]) for p in checked}
        desired.update(streamed)
        # Unchanged files: their recorded content, revision and hash are current as they are.
        if not lazy:
            desired.update(self._unread(unchanged, known))
        desired.update(self._kept(desired, known, held))
        removed = self._removed(known, files, roots, now if write else None)
        findings = [*(report.findings if report else []), *(_duplicate(*s) for s in strays)]
        unread = unchanged - set(desired) if lazy else set()
        return Loaded(desired, findings, held, removed, known, unread, lazy, set(streamed))

    def _hash_files(
        self, found: list[Path], known: Mapping[str, PostingRow], same: bool, claiming: bool
    ) -> tuple[dict[str, str], dict[str, Any], set[str], Counter[str | None]]:
        """Each file's hash (of the config's fingerprint and its bytes) and stat; a file
        unchanged by its stat (``same``: the config too) is not read. ``claiming``: also the
        ids the files' id lines give, and the files whose id line is their name (see
        :func:`publisher.streaming.claims`)."""
        from publisher.incremental import stat_of
        from publisher.streaming import claims

        fingerprint = self._fingerprint
        hashes: dict[str, str] = {}
        stats: dict[str, Any] = {}
        own: set[str] = set()
        claimed: Counter[str | None] = Counter()
        for path in found:
            row, stat = known.get(path.stem), stat_of(path)
            if (
                same
                and stat is not None
                and row is not None
                and row.source_stat == stat
                and row.path == str(path)
                and row.source_hash is not None
            ):
                hashes[str(path)] = row.source_hash  # unchanged, by its stat: not read
                continue
            with contextlib.suppress(OSError):  # unreadable: validation will say so
                data = path.read_bytes()
                hashes[str(path)] = hashlib.sha256(fingerprint + data).hexdigest()
                if claiming:
                    claimed[said := claims(data)] += 1
                    if said == path.stem:
                        own.add(path.stem)
            stats[path.stem] = stat
        return hashes, stats, own, claimed

    def _kept(
        self, desired: Mapping[str, Desired], known: Mapping[str, PostingRow], held: set[str]
    ) -> dict[str, Desired]:
        """Queued postings, which join the files; and a posting whose file is now invalid,
        with its last valid content (which the planner uses only to expire it on time)."""
        kept = [
            row
            for row in known.values()
            if row.id not in desired
            and (row.id in held or (row.source == "queue" and row.removed_at is None))
        ]
        specs = self.ledger.specs(row.id for row in kept)
        return {row.id: Desired(specs[row.id], row.revision, row.content_hash) for row in kept}

    def _removed(
        self,
        known: Mapping[str, PostingRow],
        files: Mapping[str, str],
        roots: list[Path],
        now: datetime | None,
    ) -> set[str]:
        """Postings whose file was under these folders and is gone; marked removed in the
        ledger at ``now`` (None: not written)."""
        resolved = [r.resolve() for r in roots]
        removed = {
            row.id
            for row in known.values()
            if row.source == "file"
            and row.path
            and row.id not in files
            and any(Path(row.path).resolve().is_relative_to(r) for r in resolved)
        }
        if now is not None:
            self.ledger.mark_removed(sorted(i for i in removed if known[i].removed_at is None), now)
        return removed

    def _unread(self, ids: Iterable[str], known: Mapping[str, PostingRow]) -> dict[str, Desired]:
        """Unchanged postings as recorded: their content, revision and hash."""
        return {
            pid: Desired(posting, known[pid].revision, known[pid].content_hash)
            for pid, posting in self.ledger.specs(ids).items()
        }

    def _strays(self, found: Sequence[Path]) -> list[tuple[Path, Path]]:
        """Files given as PATH whose id a file in the postings folder has too: a stray copy
        must not replace the posting (the next plain sync would flip it back)."""
        home = Path(self.config.postings_dir)
        if not home.is_dir():
            return []
        from publisher.validate import discover

        given = {path.resolve() for path in found}
        others = {p.stem: p for p in discover([home]) if p.resolve() not in given}
        return [(path, others[path.stem]) for path in found if path.stem in others]

    def plan(
        self,
        loaded: Loaded,
        *,
        retry_failed: bool = False,
        listings: Sequence[ListingRow] | None = None,
        now: datetime | None = None,
        work: Mapping[int, WorkRow] | None = None,
    ) -> list[Action]:
        """Every action, due now (``due <= now``) or later, for the loaded postings (but
        those a streamed sync planned already); ``work``: the listings' open work."""
        if listings is None:
            listings = self.ledger.listings()
        desired = (
            {pid: d for pid, d in loaded.desired.items() if pid not in loaded.streamed}
            if loaded.streamed
            else loaded.desired
        )
        return plan(
            desired,
            listings,
            self.ledger.open_work() if work is None else work,
            self.policies(),
            now or self.clock(),
            held=loaded.held,
            removed=loaded.removed,
            retry_failed=retry_failed,
            default_duration=self.default_duration,
        )

    def skipped_boards(self, boards: Iterable[str]) -> dict[str, str]:
        """Boards whose credentials or settings are missing: skipped, with the reason."""
        skipped = {}
        for board in sorted(set(boards)):
            try:
                missing = self.adapter(board).missing_credentials()
            except ConfigError as exc:
                skipped[board] = str(exc)
                continue
            if missing:
                skipped[board] = f"missing credentials or settings: {', '.join(missing)}"
        return skipped

    # -- sync ----------------------------------------------------------------------------
    async def sync(
        self,
        paths: Sequence[Path] = (),
        *,
        retry_failed: bool = False,
        loaded: Loaded | None = None,
        progress: Progress | None = None,
        full: bool = False,
    ) -> SyncResult:
        """Load, plan, queue what is due, run it (and any work due from earlier runs), then
        write the feed and page files.

        The plan is incremental (what changed or is due; see :mod:`publisher.incremental`)
        unless ``full`` — or ``retry_failed``, or the engine's fingerprint changed, or it is
        this worker's turn of the periodic full plan (``full_every``)."""
        with fewer_collections:
            return await self._sync(paths, retry_failed, loaded, progress, full)

    async def _sync(
        self,
        paths: Sequence[Path],
        retry_failed: bool,
        loaded: Loaded | None,
        progress: Progress | None,
        full: bool,
    ) -> SyncResult:
        from publisher.incremental import clock_went_back, take_turn
        from publisher.streaming import streamed, streams

        if not full and self.full_every is not None:
            full = take_turn(self.ledger, "full-plan", self.owner, self.clock(), self.full_every)
        behind = clock_went_back(self.ledger, self.clock())
        if behind is not None:
            full = True  # what a clock that ran ahead expired early is found and put back
            note = (
                f"the clock is {human(behind)} behind an earlier run's: planning every "
                "posting (listings expired early go up again)"
            )
        if loaded is None and self.claim_size is None and streams(self.ledger):
            result = await streamed(
                self, paths, retry_failed, progress, lazy=not (full or retry_failed)
            )
        else:
            result = await self._claimed(paths, retry_failed, loaded, progress, full)
        if behind is not None:
            result.notes.append(note)
        if self.config.notify.any:  # people hear of incidents once each
            from publisher.notify import announce, incidents_now

            result.notes += await announce(
                self.ledger, self.config.notify, incidents_now(self.ledger, result), self.clock()
            )
        return result

    async def _claimed(
        self,
        paths: Sequence[Path],
        retry_failed: bool,
        loaded: Loaded | None,
        progress: Progress | None,
        full: bool,
    ) -> SyncResult:
        """Load, plan and queue; then run the due work, in claims of ``claim_size`` when
        set (a fleet's workers share)."""
        loaded = loaded or self.load(paths, lazy=not (full or retry_failed))
        result = SyncResult(findings=loaded.findings)
        self._queue_due(loaded, result, retry_failed)
        if self.stopping.is_set():  # asked to stop while planning: claim nothing
            return result
        seen: set[int] = set()
        while True:  # in claims of claim_size when set, so that a fleet's workers share
            claimed, taken_over = self.ledger.claim(
                self.owner, self.clock(), limit=self.claim_size, lease=self.lease
            )
            again = [w.id for w in claimed if w.id in seen]  # given back earlier this tick
            self.ledger.release(again, self.owner)
            fresh = [w for w in claimed if w.id not in seen]
            seen.update(w.id for w in fresh)
            self._took_over(taken_over, result)
            if fresh or not seen:
                await self._execute(fresh, loaded, result, progress)
            if (
                self.claim_size is None
                or len(claimed) < self.claim_size
                or again
                or self.stopping.is_set()
            ):
                break
        return result

    def _took_over(self, taken_over: Sequence[WorkRow], result: SyncResult) -> None:
        owners = self.ledger.listings_by_id([row.listing_id for row in taken_over])
        result.taken_over += [
            Takeover(
                row.id,
                row.kind,
                owners[row.listing_id].posting_id,
                owners[row.listing_id].board,
                row.lease_owner or "?",
            )
            for row in taken_over
        ]
        for row in taken_over:
            then = (
                "a create is looked up on the board first where the board can be queried"
                if row.kind == "post"
                else "it is sent again under the same key"
            )
            result.notes.append(f"took over interrupted work #{row.id} ({row.kind}); {then}")

    def _queue_due(
        self, loaded: Loaded, result: SyncResult, retry_failed: bool
    ) -> list[ListingRow]:
        """Plan; create listings for new postings x boards; queue what is due now; keep
        each planned listing's next due time.

        Returns the listings planned, as they are now (claiming changes no listing it does
        not take over from a crashed run).
        """
        rows, whole = self.planning_set(loaded)
        return self._queue_planned(loaded, rows, whole, result, retry_failed)

    def _queue_planned(
        self,
        loaded: Loaded,
        rows: list[ListingRow],
        whole: bool,
        result: SyncResult,
        retry_failed: bool,
        work: Mapping[int, WorkRow] | None = None,
    ) -> list[ListingRow]:
        """:meth:`_queue_due` for these listings (every listing: ``whole``); ``work``: their
        open work, when not every listing's is to be read."""
        from publisher.incremental import (
            next_due,
            planned,
            save_next_due,
            set_plan_fingerprint,
        )

        actions = self.plan(loaded, retry_failed=retry_failed, listings=rows, work=work)
        # The version each listing had when planned (0: the plan knew no listing).
        versions = {row.id: row.version for row in rows}
        new = {(a.posting, a.board) for a in actions if a.listing_id is None}
        if new:
            self.ledger.add_listings(
                [(p, b, external_ref(p, b)) for p, b in sorted(new)], self.clock()
            )
            rows = (
                self.ledger.listings()
                if whole
                else self.ledger.listings_of({r.posting_id for r in rows} | {p for p, _ in new})
            )
            ids = {(r.posting_id, r.board): r.id for r in rows}
            actions = [
                a if a.listing_id is not None else replace(a, listing_id=ids[(a.posting, a.board)])
                for a in actions
            ]
        now = self.clock()
        result.failing = self.ledger.failing()
        result.skipped.update(
            self.skipped_boards({a.board for a in actions} | self.ledger.boards())
        )
        due = [a for a in actions if a.due <= now and a.board not in result.skipped]
        result.upcoming += [a for a in actions if a.due > now]
        listings = {row.id: row for row in rows}
        revisions = {pid: row.revision for pid, row in loaded.known.items()}
        revisions.update({pid: d.revision for pid, d in loaded.desired.items()})
        self.ledger.enqueue(
            [
                {
                    "listing_id": a.listing_id,
                    "kind": a.action,
                    "reason": a.reason,
                    "due_at": a.due,
                    "ref": listings[a.listing_id].external_ref,
                    "revision": revisions.get(a.posting, 0),
                    "version": versions.get(a.listing_id, 0),
                    **({"hold": a.hold} if a.hold else {}),
                }
                for a in due
                if a.work_id is None and a.listing_id is not None
            ],
            # An open row superseded by a plan is cancelled even when the plan's own action is
            # not due yet (a file restored before its removal's expire ran).
            [a.cancel for a in actions if a.cancel is not None],
            now,
        )
        said = [
            Event(now, a.posting, a.board, a.action, EventOutcome.RETRY, a.reason)
            for a in due
            if a.said and a.work_id is None
        ]
        if said:
            self.ledger.add_events(said)
        mine = (set(loaded.desired) | loaded.held | loaded.removed) - loaded.streamed
        save_next_due(
            self.ledger, next_due([r for r in rows if r.posting_id in mine], actions, now)
        )
        planned(self.ledger, None if whole else loaded.desired)
        if whole and not retry_failed:
            set_plan_fingerprint(self.ledger, self._fingerprint.hex())
        return rows

    def planning_set(self, loaded: Loaded) -> tuple[list[ListingRow], bool]:
        """The listings to plan (and the postings, added to ``loaded.desired``): everything
        (True) when the load read every posting or the engine changed since the last full
        plan; else what changed or is due — the rest is neither read nor planned."""
        # (The engine's fingerprint is the config's too: a changed config plans everything.)
        from publisher.incremental import due_postings, plan_fingerprint

        if not loaded.lazy:
            return self.ledger.listings(), True
        if plan_fingerprint(self.ledger) != self._fingerprint.hex():
            queued = self.ledger.postings(light=True, source="queue")
            self._read(loaded, loaded.unread | set(queued), queued)
            return self.ledger.listings(), True
        touched = due_postings(self.ledger, self.clock()) - loaded.streamed
        rows = self.ledger.postings(
            light=True, ids=touched - set(loaded.desired) - loaded.held - set(loaded.known)
        )
        self._read(loaded, touched & loaded.unread | set(rows), rows)
        return self.ledger.listings_of(
            set(loaded.desired) - loaded.streamed | loaded.held | touched
        ), False

    def _read(self, loaded: Loaded, ids: set[str], rows: Mapping[str, PostingRow]) -> None:
        """Add these unread postings to the plan: unchanged files, and queued postings."""
        loaded.known.update(rows)
        wanted = {
            pid
            for pid in ids
            if pid in loaded.unread
            or (pid in rows and rows[pid].source == "queue" and rows[pid].removed_at is None)
        }
        loaded.desired.update(self._unread(wanted, loaded.known))
        loaded.unread -= wanted

    def _chosen(
        self,
        posting_id: str,
        boards: Sequence[str],
    ) -> tuple[Posting, list[str], list[ListingRow]]:
        """The posting's last valid content, the boards asked for (all of its boards, or the
        ones named, each of which must be one of them) and its listings now."""
        spec = self.ledger.specs([posting_id]).get(posting_id)
        if spec is None:
            raise UnknownPosting(f"no posting '{posting_id}' in the ledger")
        rows = self.ledger.listings(posting_id)
        own = sorted(set(spec.boards) | {r.board for r in rows})
        wrong = [b for b in boards if b not in own]
        if wrong:
            raise UsageError(
                f"--board {wrong[0]}: '{posting_id}' is not on that board "
                f"(its boards: {', '.join(own)})"
            )
        return spec, list(boards) or own, rows

    async def expire_now(
        self, posting_id: str, boards: Sequence[str] = (), progress: Progress | None = None
    ) -> SyncResult:
        """Close a posting now on all (or the given) boards, whatever its dates say, and
        hold it closed: no edit of its file publishes it again, only :meth:`reopen`.

        A posting not yet published (queued, or its publish time to come) gets its listings
        now, held closed, so its scheduled posts never happen.
        """
        spec, chosen, rows = self._chosen(posting_id, boards)
        known = self.ledger.postings()
        have = {r.board for r in rows}
        now = self.clock()
        self.ledger.add_listings(
            [
                (posting_id, b, external_ref(posting_id, b))
                for b in chosen
                if b not in have and b in spec.boards
            ],
            now,
        )
        mine = [r for r in self.ledger.listings(posting_id) if r.board in chosen]
        self.ledger.set_hold([r.id for r in mine], Hold.MANUAL)  # expired ones too
        rows = [
            r
            for r in self.ledger.listings(posting_id)  # their versions after the hold
            if r.board in chosen and r.state != ListingState.EXPIRED
        ]
        result = SyncResult()
        result.skipped = self.skipped_boards(r.board for r in rows)
        result.notes += [
            f"{b}: held closed; expired there once the board is configured"
            for b in sorted(result.skipped)
        ]
        rows = [r for r in rows if r.board not in result.skipped]
        work = self.ledger.open_work()
        self.ledger.enqueue(
            [
                {
                    "listing_id": r.id,
                    "kind": "expire",
                    "reason": "expired by hand (jobpub expire)",
                    "due_at": now,
                    "ref": r.external_ref,
                    "revision": known[posting_id].revision,
                    "version": r.version,
                    "hold": Hold.MANUAL,
                }
                for r in rows
            ],  # as the plan has it
            [work[r.id].id for r in rows if r.id in work and work[r.id].state == WorkState.PENDING],
            now,
        )
        claimed, _ = self.ledger.claim(self.owner, now, only=[r.id for r in rows], lease=self.lease)
        busy = {r.id for r in rows} - {w.listing_id for w in claimed}
        result.notes += [
            f"{r.board}: another run is working on this listing; it is held "
            "closed and expired by the next sync"
            for r in rows
            if r.id in busy
        ]
        await self._execute(claimed, Loaded({}, [], set(), set(), known), result, progress)
        return result

    def reopen(self, posting_id: str, boards: Sequence[str] = ()) -> list[str]:
        """Lift the hold of :meth:`expire_now`; the next sync publishes it again (under new
        idempotency keys). Returns the boards reopened."""
        _, chosen, rows = self._chosen(posting_id, boards)
        held = [r for r in rows if r.board in chosen and r.hold == Hold.MANUAL]
        if not held:
            raise PublisherError(
                f"'{posting_id}' is not closed by jobpub expire on "
                f"{', '.join(chosen)}: nothing to reopen"
            )
        self.ledger.set_hold([r.id for r in held if r.state == ListingState.EXPIRED], Hold.REOPEN)
        self.ledger.set_hold([r.id for r in held if r.state != ListingState.EXPIRED], None)
        now = self.clock()
        self.ledger.add_events(
            [
                Event(
                    now,
                    posting_id,
                    r.board,
                    "reopen",
                    "ok",
                    "reopened: the next sync publishes it again",
                )
                for r in held
            ]
        )
        return [r.board for r in held]

    async def _execute(
        self, claimed: Sequence[Any], loaded: Loaded, result: SyncResult, progress: Progress | None
    ) -> None:
        """Run the claimed work, then write the feed and page files."""
        jobs, release = self._jobs(claimed, loaded, result.skipped)
        self.ledger.release(release, self.owner)
        executor = self._executor(result, progress)
        with fewer_collections:  # the postings, listings and jobs live through the run
            await executor.run(jobs, self.limits())
        await self._finish(executor, result, loaded)

    def limits(self) -> dict[str, BoardLimit]:
        return {b: self.limit(b) for b in self.registry}

    async def _finish(self, executor: Executor, result: SyncResult, loaded: Loaded) -> None:
        """After the run: its notes, and the feed and page files written."""
        result.notes += executor.notes
        result.broken = dict(executor.broken)
        await self.write_files(result, loaded, executor.held)

    def _executor(self, result: SyncResult, progress: Progress | None) -> Executor:
        """An executor whose outcomes go to ``result`` (and ``progress``)."""

        def done(job: Job, outcome: Outcome, seconds: float) -> None:
            state = str(outcome.work.get("state"))
            if state == WorkState.PENDING and outcome.work.get("task_id", job.work.task_id):
                state = "waiting"  # taken by the board, which confirms later
            result.outcomes.append(
                Done(
                    job.listing.posting_id,
                    job.listing.board,
                    job.work.kind,
                    state,
                    outcome.work.get("last_error"),
                )
            )
            if progress is not None:
                progress.advance(job, outcome, seconds)

        leases = Leases(
            self.ledger, self.owner, self.clock, self.lease, self.config.engine.renew_seconds
        )
        return Executor(
            self.ledger,
            self.clock,
            self.sleep,
            max_wait=self.max_wait,
            progress=done,
            stopping=self.stopping,
            leases=leases,
            deadline=self.config.deadline,
            added=progress.start if progress is not None else None,
        )

    def _jobs(
        self, claimed: Sequence[Any], loaded: Loaded, skipped: Mapping[str, str]
    ) -> tuple[list[Job], list[int]]:
        if not claimed:
            return [], []
        # Read under the lease: no other run changes these listings until the work is done.
        listings = self.ledger.listings_by_id(w.listing_id for w in claimed)
        known = loaded.known
        specs = self.ledger.specs(
            listings[w.listing_id].posting_id
            for w in claimed
            if listings[w.listing_id].posting_id not in loaded.desired
        )
        jobs, release = [], []
        for work in claimed:
            listing: ListingRow = listings[work.listing_id]
            pid = listing.posting_id
            if (
                listing.board in skipped
                or listing.board not in self.registry
                or (pid in loaded.held and work.kind != "expire" and not work.task_id)
            ):
                release.append(work.id)
                continue
            desired = loaded.desired.get(pid) or Desired(
                specs[pid], known[pid].revision, known[pid].content_hash
            )
            jobs.append(
                Job(
                    work,
                    listing,
                    desired.posting,
                    desired.revision,
                    desired.board_hash(listing.board),
                    self.adapter(listing.board, desired.posting),
                    self.default_duration,
                )
            )
        return jobs, release

    async def write_files(
        self, result: SyncResult, loaded: Loaded, held: Sequence[Outcome] = ()
    ) -> None:
        """Render every feed and page board from the ledger with this run's ``held``
        outcomes applied; write what changed; only then record those outcomes (a board whose
        files cannot be written keeps its listings as they were, its work due again); then
        announce page changes."""
        boards = [
            b
            for b in sorted(self.ledger.boards() | set(self.config.boards))
            if b in self.registry and self.registry[b].kind != "api" and b not in result.skipped
        ]
        if not boards:
            return
        changes = {o.listing_id: o for o in held}
        rows = [
            replace(r, **changes[r.id].listing) if r.id in changes else r
            for r in self.ledger.listings_on(boards)
        ]
        digests = {pid: row.content_hash for pid, row in loaded.known.items()}
        digests.update({pid: d.digest for pid, d in loaded.desired.items()})
        shown = {r.posting_id for r in rows if r.board in boards} - set(digests)
        if shown:  # queued postings a lazy load did not read
            digests.update(
                {
                    pid: row.content_hash
                    for pid, row in self.ledger.postings(light=True, ids=shown).items()
                }
            )
        settings = self.config.model_dump_json().encode()
        stored = self.ledger.board_files()
        found: dict[str, Posting] = {}

        def postings() -> dict[str, Posting]:
            """The postings the boards show, read only when a board must be rendered."""
            if not found:
                wanted = {r.posting_id for r in rows if r.board in boards}
                found.update({pid: d.posting for pid, d in loaded.desired.items() if pid in wanted})
                found.update(self.ledger.specs(wanted - set(found)))
            return found

        failures: list[PublisherError] = []
        for board in boards:
            adapter = self.adapter(board)
            assert isinstance(adapter, FileAdapter)
            mine = [r for r in rows if r.board == board]
            outcomes = [changes[r.id] for r in mine if r.id in changes]
            current = fingerprint(adapter, mine, digests, settings)
            written: BoardFiles | None = None
            if not unchanged(output_dir(adapter), stored.get(board), current):
                try:
                    written = write_board_files(adapter, mine, postings())
                except PublisherError as exc:
                    failures.append(exc)
                    self.ledger.record(
                        [
                            self._not_written(o, r, exc)
                            for r in mine
                            if (o := changes.get(r.id)) is not None
                        ]
                    )
                    continue
                if written.changed:
                    result.written[board] = written.changed
            result.notes += self.ledger.record(outcomes)
            if written is not None:  # recorded after the outcomes it shows
                self.ledger.set_board_files(board, current, written.names, self.clock())
            if not any(r.notify for r in mine):
                continue
            note = await announce(adapter, mine, postings(), self.ledger, self.clock())
            if note:
                result.notes.append(note)
        flush_cache()  # the descriptions rendered for these files, kept for the next sync
        if failures:
            raise failures[0]

    def _not_written(self, outcome: Outcome, row: ListingRow, exc: Exception) -> Outcome:
        """A file board's action whose files could not be written: due again in 5 minutes."""
        now = self.clock()
        kind = outcome.events[0].action if outcome.events else ActionKind.POST  # as planned
        event = Event(
            now, row.posting_id, row.board, kind, "retry", f"{exc}; next attempt in 5 minutes"
        )
        return Outcome(
            outcome.work_id,
            outcome.listing_id,
            {"last_error": str(exc)},
            {
                "state": WorkState.PENDING,
                "due_at": now + timedelta(minutes=5),
                "last_error": str(exc),
            },
            [event],
        )

    async def aclose(self) -> None:
        await self.clients.aclose()
