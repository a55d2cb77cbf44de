"""The engine's commands: plan, sync, queue, status, history, expire, run."""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from publisher import clock
from publisher.cli_support import State, handle_errors, pass_state
from publisher.errors import PostingInvalid, UnknownPosting, UsageError
from publisher.report import render
from publisher.schema import Posting
from publisher.states import Hold, WorkState
from publisher.views import hold_text, local, status_rows

if TYPE_CHECKING:  # the engine (SQLAlchemy, httpx, tenacity) loads only when a command runs
    from publisher.engine import Engine, Progress, SyncResult
    from publisher.executor import Job
    from publisher.ledger import Outcome

__all__ = ["COMMANDS", "open_engine"]

PAST = {"post": "posted", "update": "updated", "refresh": "refreshed", "expire": "expired"}


def open_engine(state: State, *, create: bool = False) -> Engine:
    """The engine on the configured ledger (``JOBPUB_LEDGER`` overrides the config's URL).

    A missing SQLite ledger is created only for ``create`` (sync, run) and only at the
    built-in default place, ``.jobpub/ledger.db`` under the project root; any other
    missing ledger is exit 2 naming it, so a typo never re-posts everything.
    """
    from publisher.config import DEFAULT_LEDGER, ledger_url
    from publisher.database import connect, missing_sqlite
    from publisher.engine import Engine
    from publisher.ledger import Ledger

    config = state.config
    url = ledger_url(config)
    new = missing_sqlite(url)
    default = Path(config.root or ".").resolve() / DEFAULT_LEDGER[len("sqlite:///") :]
    engine = Engine(config, Ledger(connect(url, create=create and new == default)))
    if new:
        click.echo(f"created new ledger {new}")
    return engine


def _postings_or_ledger(state: State, paths: tuple[Path, ...]) -> None:
    """Running in the wrong folder must not look like success: with no PATH, no postings
    folder and no ledger yet (nothing queued), there is nothing to sync."""
    from publisher.config import ledger_url
    from publisher.database import missing_sqlite

    config = state.config
    if paths or Path(config.postings_dir).is_dir():
        return
    if missing_sqlite(ledger_url(config)):
        raise UsageError(
            f"no postings folder {config.postings_dir}/ and no ledger: run "
            "jobpub in the project folder (or jobpub init to start one)"
        )


def _iso(when: datetime | None) -> str | None:
    return when.astimezone(UTC).isoformat() if when else None


class _Lines:
    """Piped output (cron, CI, a service's log): one line per finished action, as text or
    as JSON (``run --log-format json``: one object per line, for log collectors)."""

    def __init__(self, as_json: bool = False, worker: str | None = None) -> None:
        self.as_json, self.worker = as_json, worker

    def start(self, total: int) -> None:
        pass

    def advance(self, job: Job, outcome: Outcome, seconds: float) -> None:
        state = outcome.work.get("state")
        error = outcome.work.get("last_error")
        if self.as_json:
            results = {str(WorkState.DONE): "done", str(WorkState.FAILED): "failed"}
            result = results.get(str(state), "waiting" if outcome.work.get("task_id") else "retry")
            self.line(
                "action",
                posting=job.listing.posting_id,
                board=job.listing.board,
                action=job.work.kind,
                outcome=result,
                attempt=job.work.attempts,
                duration_ms=round(seconds * 1000),
                error=error,
            )
            return
        word = (
            PAST[job.work.kind]
            if state == WorkState.DONE
            else ("FAILED" if state == WorkState.FAILED else "retry later")
        )
        click.echo(
            f"{_stamp()} {job.listing.posting_id} {job.listing.board}: {job.work.kind} "
            f"{word}"
            + (f" - {error}" if error else "")
            + f" (attempt {job.work.attempts}, {seconds:.2f} s)"
        )

    def line(self, event: str, **fields: Any) -> None:
        """One JSON log line (None fields left out)."""
        record = {
            "time": _stamp(),
            "event": event,
            **({"worker": self.worker} if self.worker else {}),
            **{k: v for k, v in fields.items() if v is not None},
        }
        click.echo(json.dumps(record, ensure_ascii=False))


def _stamp() -> str:
    return clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")


class _Bar:
    """A terminal: a progress bar with a count and the time left."""

    def __init__(self, bar: Any, label: str) -> None:
        self.bar, self.task = bar, bar.add_task(label, total=None)

    def start(self, total: int) -> None:
        self.bar.update(self.task, total=total)

    def advance(self, job: Job, outcome: Outcome, seconds: float) -> None:
        self.bar.advance(self.task)


@contextmanager
def _progress(label: str) -> Iterator[Progress]:
    """A progress bar on a terminal; one plain line per action when piped."""
    if not sys.stderr.isatty():
        yield _Lines()
        return
    from rich.progress import MofNCompleteColumn, TimeRemainingColumn
    from rich.progress import Progress as Bar

    with Bar(
        *Bar.get_default_columns()[:-1], MofNCompleteColumn(), TimeRemainingColumn(), transient=True
    ) as bar:
        yield _Bar(bar, label)


def _summary(result: SyncResult) -> None:
    for finding in result.findings:
        if finding.severity == "error":
            click.echo(
                f"{finding.file}:{finding.line}:{finding.column}: error {finding.rule} "
                f"{finding.message}",
                err=True,
            )
    for board, why in sorted(result.skipped.items()):
        click.echo(f"skipped board {board}: {why}")
    for note in result.notes:
        click.echo(note)
    for board, files in sorted(result.written.items()):
        click.echo(f"wrote {board}: {', '.join(files)}")
    counts = Counter((d.board, d.action, d.state) for d in result.outcomes)
    if counts:
        waiting = any(state == "waiting" for _, _, state in counts)
        click.echo(
            f"{'BOARD':<16}{'ACTION':<9}{'DONE':>6}"
            + (f"{'WAITING':>9}" if waiting else "")
            + f"{'RETRY LATER':>13}{'FAILED':>8}"
        )
        for board, kind in sorted({(b, k) for b, k, _ in counts}):
            click.echo(
                f"{board:<16}{kind:<9}{counts[(board, kind, 'done')]:>6}"
                + (f"{counts[(board, kind, 'waiting')]:>9}" if waiting else "")
                + f"{counts[(board, kind, 'pending')]:>13}"
                f"{counts[(board, kind, 'failed')]:>8}"
            )
        if waiting:
            click.echo("WAITING: taken by the board, which confirms later; later syncs ask it")
    elif any(f.severity == "error" for f in result.findings):
        held = len({f.file for f in result.findings if f.severity == "error"})
        click.echo(f"nothing published: {held} posting file(s) with errors are held back")
    elif result.failing:
        click.echo(
            f"nothing to do now; {result.failing} listing(s) failed earlier: see "
            "jobpub status, then fix the posting or run jobpub sync --retry-failed"
        )
    elif result.skipped:
        click.echo("nothing done on the skipped boards; the others are up to date")
    else:
        click.echo("nothing to do: every listing is up to date")
    for d in result.failed:
        click.echo(f"FAILED {d.posting} on {d.board} ({d.action}): {d.error}", err=True)


def _run(engine: Engine, coro: Any) -> Any:
    async def main() -> Any:
        try:
            return await coro
        finally:
            await engine.aclose()

    return asyncio.run(main())


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.option("--upcoming", is_flag=True, help="also show scheduled future actions")
@pass_state
@handle_errors
def plan(state: State, paths: tuple[Path, ...], as_json: bool, upcoming: bool) -> None:
    """Show the actions sync would take now, per posting x board, and why."""
    engine = open_engine(state)
    loaded = engine.load(paths, write=False)
    now = engine.clock()
    rows = engine.ledger.listings()
    actions = [a for a in engine.plan(loaded, now=now, listings=rows) if upcoming or a.due <= now]
    skipped = engine.skipped_boards({a.board for a in actions})
    if as_json:
        click.echo(json.dumps({"actions": [a.as_json() for a in actions]}, indent=2))
        return
    for posting_id in sorted(loaded.held):
        click.echo(
            f"held: {posting_id}: its file has errors (see jobpub validate); its "
            "listings stay as they are",
            err=True,
        )
    for row in rows:
        if row.hold == Hold.MANUAL and row.posting_id in loaded.desired:
            zone = loaded.known[row.posting_id].timezone
            click.echo(f"held: {row.posting_id} on {row.board}: {hold_text(row, zone)}")
    if not actions:
        click.echo("nothing to do: every listing is up to date")
    for a in actions:
        zone = (
            loaded.known[a.posting].timezone
            if a.posting in loaded.known
            else (loaded.desired[a.posting].posting.timezone or "UTC")
        )
        when = "now" if a.due <= now else local(a.due, zone)
        note = f" (board skipped: {skipped[a.board]})" if a.board in skipped else ""
        click.echo(f"{a.action:<8}{a.posting} on {a.board} {when}: {a.reason}{note}")


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--retry-failed", is_flag=True, help="try failed listings again")
@click.option("--full", is_flag=True, help="plan every posting, not only what changed or is due")
@pass_state
@handle_errors
def sync(state: State, paths: tuple[Path, ...], retry_failed: bool, full: bool) -> None:
    """Reconcile postings with the boards now: run due actions and record them."""
    _postings_or_ledger(state, paths)
    engine = open_engine(state, create=True)
    with _progress("syncing") as progress:
        result: SyncResult = _run(
            engine, engine.sync(paths, retry_failed=retry_failed, progress=progress, full=full)
        )
    _summary(result)
    invalid = any(f.severity == "error" for f in result.findings)
    if result.failed or invalid:
        sys.exit(1)


def _when(value: str) -> datetime | date:
    """``--at`` as posting files take it: a date, or a date-time with a UTC offset."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--at: not an ISO date or date-time: {value!r}") from None
    if len(value) == 10:
        return parsed.date()
    if parsed.tzinfo is None:
        raise UsageError(
            f"--at {value}: no UTC offset; add one (e.g. {value}-07:00 or "
            f"{value}Z) or give a date, as in posting files"
        )
    return parsed


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--board", "boards", multiple=True, help="only these boards (repeatable)")
@click.option("--at", "at", metavar="WHEN", help="publish time (ISO date or date-time)")
@pass_state
@handle_errors
def queue(state: State, file: Path, boards: tuple[str, ...], at: str | None) -> None:
    """Validate, then queue a posting for the next sync (no file in postings/ needed)."""
    from publisher.board_rules import board_checker
    from publisher.rules import RuleContext
    from publisher.validate import Report, load_posting, place

    config = state.config
    result = load_posting(file, config, RuleContext.of(config), board_checker(config))
    errors = [f for f in place(result) if f.severity == "error"]
    if errors or result.posting is None:
        click.echo(render(Report(1, errors), "text"), err=True)
        raise PostingInvalid(f"{file} was not queued")
    posting = result.posting
    update: dict[str, Any] = {}
    if boards:
        unknown = [b for b in boards if b not in posting.boards]
        if unknown:
            raise UsageError(
                f"--board {unknown[0]}: not among the posting's boards "
                f"({', '.join(posting.boards)})"
            )
        update["boards"] = {b: posting.boards[b] for b in boards}
    if at:
        update["publish_at"] = _when(at)
    if update:
        posting = Posting.model_validate({**posting.model_dump(), **update})
        start, end = posting.publish_time(), posting.expiry_time()
        if start is not None and end is not None and end <= start:
            raise UsageError("--at is not before the posting's expires_at")
        if at and start is not None and start.date() < clock.now().astimezone(start.tzinfo).date():
            raise UsageError(
                f"--at {at} is in the past; leave --at out to publish at the next sync"
            )
    engine = open_engine(state)
    known = engine.ledger.postings().get(posting.id)
    if known is not None and known.source == "file" and known.removed_at is None:
        raise UsageError(
            f"posting '{posting.id}' comes from {known.path}; edit that file instead of queueing it"
        )
    earlier = engine.ledger.specs([posting.id]).get(posting.id) if known else None
    engine.ledger.save_postings([(posting, "queue", None, None)], engine.clock())
    zone = posting.timezone or "UTC"
    start = posting.publish_time()
    when = local(start, zone) if start else "at the next sync"
    click.echo(f"queued {posting.id} for {', '.join(posting.boards)}: publishes {when}")
    if earlier is not None:
        before = earlier.publish_time()
        click.echo(
            f"this replaces the earlier queued version (it published "
            f"{local(before, zone) if before else 'at the next sync'})"
        )


@click.command()
@click.argument("posting_id", required=False, metavar="[ID]")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@pass_state
@handle_errors
def status(state: State, posting_id: str | None, as_json: bool) -> None:
    """Per posting x board: state, board id and URL, dates, last error."""
    engine = open_engine(state)
    rows = status_rows(engine, posting_id)
    if posting_id and not rows and posting_id not in engine.ledger.postings():
        raise UnknownPosting(f"no posting '{posting_id}' in the ledger")
    from publisher.fleet import fleet

    workers = fleet(engine.ledger) if posting_id is None else []
    now = clock.now()
    if as_json:
        click.echo(
            json.dumps(
                {
                    "listings": [
                        {
                            k: _iso(v) if isinstance(v, datetime) else v
                            for k, v in r.items()
                            if not k.startswith("_")
                        }
                        for r in rows
                    ],
                    "workers": [
                        {
                            "worker": w.owner,
                            "state": w.state(now),
                            "started_at": _iso(w.started_at),
                            "beat_at": _iso(w.beat_at),
                            "stopped_at": _iso(w.stopped_at),
                            "ticks": w.ticks,
                            "last_tick": w.last_tick,
                        }
                        for w in workers
                    ],
                },
                indent=2,
            )
        )
        return
    if not rows:
        queued = sorted(
            p.id
            for p in engine.ledger.postings().values()
            if p.source == "queue" and p.removed_at is None and posting_id in (None, p.id)
        )
        click.echo(
            f"queued, not synced yet: {', '.join(queued)} (the next jobpub sync publishes them)"
            if queued
            else "no listings yet: run jobpub sync"
        )
    else:
        click.echo(
            f"{'POSTING':<36}{'BOARD':<16}{'STATE':<10}{'POSTED':<23}"
            f"{'NEXT REFRESH':<22}{'EXPIRES':<22}URL / LAST ERROR"
        )
    for r in rows:
        zone, tail = r["_zone"], r["last_error"] or r["url"] or ""
        if r["hold"]:
            tail = r["hold"]
        posted = (
            local(r["posted_at"], zone)
            if r["posted_at"]
            else (f"({local(r['_publishes'], zone)})" if r["_publishes"] else "-")
        )
        click.echo(
            f"{r['posting']:<36}{r['board']:<16}{r['state']:<10}{posted:<23}"
            f"{local(r['next_refresh_at'], zone):<22}"
            f"{local(r['expires_at'], zone):<22}{tail}"
        )
    if workers:
        zone = state.config.timezone
        click.echo(
            f"\n{'WORKER':<36}{'STATE':<9}{'STARTED':<23}{'LAST BEAT':<13}{'TICKS':>6}  LAST TICK"
        )
        for w in workers:
            ago = f"{int((now - w.beat_at).total_seconds())} s ago"
            click.echo(
                f"{w.owner:<36}{w.state(now):<9}{local(w.started_at, zone):<23}"
                f"{ago:<13}{w.ticks:>6}  {w.last_tick or '-'}"
            )


@click.command()
@click.argument("posting_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@pass_state
@handle_errors
def history(state: State, posting_id: str, as_json: bool) -> None:
    """The audit trail of every board action for a posting."""
    engine = open_engine(state)
    known = engine.ledger.postings().get(posting_id)
    if known is None:
        click.echo(f"jobpub: no posting '{posting_id}' in the ledger", err=True)
        sys.exit(1)
    events = engine.ledger.history(posting_id)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "events": [
                        {
                            "time": _iso(e.time),
                            "board": e.board,
                            "action": e.action,
                            "outcome": e.outcome,
                            "http_status": e.http_status,
                            "detail": e.detail,
                            "actor": e.actor,
                        }
                        for e in events
                    ]
                },
                indent=2,
            )
        )
        return
    zone = known.timezone
    if events:
        click.echo(f"{'TIME':<22}{'BOARD':<16}{'ACTION':<10}{'RESULT':<7} DETAIL")
    for e in events:
        code = f" HTTP {e.http_status}" if e.http_status else ""
        click.echo(
            f"{local(e.time, zone):<22}{e.board:<16}{e.action:<10}{e.outcome:<7}"
            f"{code} {e.detail}".rstrip()
        )
    if not events:
        click.echo("no board actions yet")


#: ``--board B`` (repeatable) of the commands that act on some of a posting's boards.
_on_boards = click.option(
    "--board", "boards", multiple=True, help="only on these boards (repeatable)"
)


@click.command()
@_on_boards
@click.option("--repair", is_flag=True, help="post missing listings again at the next sync")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@pass_state
@handle_errors
def verify(state: State, boards: tuple[str, ...], repair: bool, as_json: bool) -> None:
    """Look live listings up on the boards that can be queried: report (or --repair) the
    ones a board no longer shows. Exit 1 when some are missing."""
    from publisher.verify import verify as look

    engine = open_engine(state)
    result = _run(engine, look(engine, boards, repair=repair))
    if as_json:
        click.echo(
            json.dumps(
                {
                    "checked": result.checked,
                    "unchecked": result.unchecked,
                    "missing": [
                        {
                            "posting": d.posting,
                            "board": d.board,
                            "external_ref": d.external_ref,
                            "repaired": d.repaired,
                        }
                        for d in result.drift
                    ],
                    "notes": result.notes,
                },
                indent=2,
            )
        )
    else:
        for board, why in sorted(result.unchecked.items()):
            click.echo(f"not checked {board}: {why}")
        for note in result.notes:
            click.echo(note)
        for d in result.drift:
            click.echo(
                f"MISSING {d.posting} on {d.board} ({d.external_ref}): live in the "
                "ledger, not on the board; "
                + (
                    "put back: the next sync posts it"
                    if d.repaired
                    else "jobpub verify --repair puts it back"
                )
            )
        checked = ", ".join(f"{b} {n}" for b, n in sorted(result.checked.items())) or "none"
        click.echo(f"checked live listings: {checked}; {len(result.drift)} missing")
    if result.drift:
        sys.exit(1)


@click.command()
@click.argument("posting_id", metavar="ID")
@_on_boards
@pass_state
@handle_errors
def expire(state: State, posting_id: str, boards: tuple[str, ...]) -> None:
    """Close a posting now (on every board, or the ones named)."""
    engine = open_engine(state)
    with _progress("expiring") as progress:
        result = _run(engine, engine.expire_now(posting_id, boards, progress))
    _summary(result)
    click.echo(
        f"{posting_id} is held closed: editing its file does not publish it again; "
        f"jobpub reopen {posting_id} does"
    )
    if result.failed or result.skipped:
        sys.exit(1)


@click.command()
@click.argument("posting_id", metavar="ID")
@_on_boards
@pass_state
@handle_errors
def reopen(state: State, posting_id: str, boards: tuple[str, ...]) -> None:
    """Publish again a posting closed by jobpub expire (at the next sync)."""
    engine = open_engine(state)
    reopened = engine.reopen(posting_id, boards)
    click.echo(
        f"reopened {posting_id} on {', '.join(reopened)}: the next jobpub sync publishes it again"
    )


@click.command("migrate-ledger")
@click.argument("source", metavar="FROM_URL")
@click.argument("target", metavar="TO_URL")
@pass_state
@handle_errors
def migrate_ledger(state: State, source: str, target: str) -> None:
    """Copy the ledger at FROM_URL into the empty database at TO_URL (e.g. SQLite to
    PostgreSQL); then point `ledger` (or JOBPUB_LEDGER) at TO_URL."""
    from publisher.database import safe_url
    from publisher.ledger_copy import copy_ledger

    copied = copy_ledger(source, target, say=click.echo)
    click.echo(
        f"copied {sum(copied.values()):,} row(s) from {safe_url(source)} to "
        f'{safe_url(target)}: set ledger = "{safe_url(target)}" (with its '
        "password, or JOBPUB_LEDGER) and start jobpub again"
    )


@click.group()
def archive() -> None:
    """Record keeping: what was posted, where and when."""


@archive.command("export")
@click.option("--since", "since", metavar="DATE", help="only revisions live on or after DATE")
@pass_state
@handle_errors
def archive_export(state: State, since: str | None) -> None:
    """Every recorded revision of every posting, with the boards it was live on and when,
    as JSON lines (several laws want posted versions kept: CA, MD, DE 3 years)."""
    start = None
    if since is not None:
        try:
            start = datetime.combine(date.fromisoformat(since), datetime.min.time(), UTC)
        except ValueError:
            raise UsageError(f"--since: not an ISO date (YYYY-MM-DD): {since!r}") from None
    engine = open_engine(state)
    try:
        for row in engine.ledger.archive(start):
            click.echo(json.dumps(row, ensure_ascii=False, sort_keys=True))
    finally:
        _run(engine, engine.aclose())


@click.command()
@click.option(
    "--every",
    default=30,
    show_default=True,
    type=click.IntRange(5, 3600),
    help="seconds between ticks",
)
@click.option(
    "--grace",
    default=30.0,
    show_default=True,
    type=click.FloatRange(0, 3600),
    help="on SIGTERM, seconds to let calls in flight finish",
)
@click.option(
    "--claim-size",
    "claim_size",
    default=100,
    show_default=True,
    type=click.IntRange(1, 100000),
    help="actions claimed at a time, so that workers sharing a ledger share the work",
)
@click.option(
    "--log-format",
    "log_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="one line per board action, as text or JSON",
)
@pass_state
@handle_errors
def run(state: State, every: int, grace: float, claim_size: int, log_format: str) -> None:
    """Long-running scheduler: posts, refreshes and expires on time (SIGTERM or Ctrl-C
    stops it gracefully). Several may share a PostgreSQL ledger."""
    import logging

    from publisher.redact import redact
    from publisher.scheduler import serve

    _postings_or_ledger(state, ())
    engine = open_engine(state, create=True)
    engine.claim_size = claim_size
    engine.full_every = timedelta(hours=1)  # a full plan an hour, by one worker of a fleet
    lines = _Lines(as_json=log_format == "json", worker=engine.owner)

    def say(text: str) -> None:
        if lines.as_json:
            lines.line("note", message=text)
        else:
            click.echo(f"jobpub run: {text}")

    def report(result: SyncResult) -> None:
        if lines.as_json:
            for f in result.findings:
                if f.severity == "error":
                    lines.line(
                        "finding", file=str(f.file), line=f.line, rule=f.rule, message=f.message
                    )
            for note in result.notes:
                lines.line("note", message=note)
            for board, why in sorted(result.skipped.items()):
                lines.line("skipped", board=board, message=why)
            for board, files in sorted(result.written.items()):
                lines.line("wrote", board=board, files=files)
            if result.outcomes:
                counts = Counter(d.state for d in result.outcomes)
                lines.line(
                    "tick",
                    done=counts["done"],
                    waiting=counts["waiting"],
                    retry=counts["pending"],
                    failed=counts["failed"],
                )
        elif result.outcomes or result.written or result.notes:
            _summary(result)

    class Said(logging.Handler):  # what libraries log goes out in the same format
        def emit(self, record: logging.LogRecord) -> None:
            say(redact(f"{record.name}: {record.getMessage()}"))

    logging.getLogger().addHandler(Said(logging.WARNING))
    say(f"a sync every {every} s as worker {engine.owner}; SIGTERM or Ctrl-C stops it")
    _run(engine, serve(engine, every, report, progress=lines, grace=grace, say=say))
    say("stopped")


#: The commands this module adds to ``jobpub`` (when one of them runs, or help lists them).
COMMANDS: tuple[click.Command, ...] = (
    archive,
    expire,
    history,
    migrate_ledger,
    plan,
    queue,
    reopen,
    run,
    status,
    sync,
    verify,
)
