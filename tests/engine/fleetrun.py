"""A fleet of real ``jobpub run`` workers on one ledger against the board emulator, through
a posting's whole life: post, update, refresh (LinkedIn renews at 175 days) and expire.
Shared by the multi-worker test (tests/engine/test_workers.py), the fault campaign's
CI-sized run and its full run by hand (tests/bench/fault_campaign.py).

Time: the workers' clocks run at real speed and are moved on by the harness (every child
at once, :meth:`Project.jump`) only when the fleet is quiescent — nothing running, nothing
due — so no lease is ever overtaken by a jump. The harness moves to the next due time
(LinkedIn's task polls, retries put off) in steps shorter than a lease.

Kills: a SIGKILL goes to a random worker at a random moment while a phase runs; the
worker is started again at once, so the fleet keeps its size.

Pauses: a SIGSTOP goes to a random worker at a random moment while a phase runs, and a
SIGCONT once more than a lease has passed (the fleet then runs with a short lease), so the
others take its work over and it wakes up with what it was doing — the paused-worker case
the kills cannot show. At the end every board must show the newest content of every job.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tests.boardserver import BoardServer
from tests.engine.procs import Project

LIMITS = "".join(
    f"\n[limits.{b}]\ntimeout = 1.0\n" for b in ("ziprecruiter", "linkedin", "webhook")
)
STEP = timedelta(minutes=4)  # shorter than a lease (5 min): a jump never overtakes one


@dataclass
class Report:
    postings: int
    boards: tuple[str, ...]
    kills: int = 0
    pauses: int = 0  # workers SIGSTOPped past their lease, then SIGCONTed
    stopped: int = 0  # workers stopped with SIGTERM (each must exit 0)
    phases: dict[str, float] = field(default_factory=dict)  # phase -> seconds to converge
    unconverged: dict[str, list[str]] = field(default_factory=dict)  # phase -> listings
    duplicates: dict[str, dict[str, int]] = field(default_factory=dict)  # board -> ref -> n
    webhook_duplicates: int = 0
    stale_content: dict[str, list[str]] = field(default_factory=dict)  # board -> refs whose
    # content at the end is not the newest (a stale call overwrote it)
    live_once: float = 0.0  # share of listings live exactly once after posting
    bad_exits: list[str] = field(default_factory=list)
    counts: dict[str, Any] = field(default_factory=dict)

    @property
    def lost(self) -> int:
        return sum(len(v) for v in self.unconverged.values())

    def table(self) -> str:
        rows = [
            (
                "postings x boards",
                f"{self.postings} x {len(self.boards)} ({', '.join(self.boards)})",
            ),
            (
                "faults injected",
                ", ".join(f"{k} {v}" for k, v in sorted(self.counts.get("faults", {}).items())),
            ),
            ("requests", str(self.counts.get("requests"))),
            ("workers SIGKILLed / SIGTERMed", f"{self.kills} / {self.stopped}"),
            ("workers paused past their lease", str(self.pauses)),
            ("live exactly once after posting", f"{self.live_once:.1%}"),
            (
                "duplicates on the boards",
                str(sum(len(v) for v in self.duplicates.values()) + self.webhook_duplicates)
                + "".join(f"; {b}: {v}" for b, v in sorted(self.duplicates.items()))
                + (
                    f"; webhook changes applied twice: {self.webhook_duplicates}"
                    if self.webhook_duplicates
                    else ""
                ),
            ),
            ("actions lost (not converged)", str(self.lost)),
            ("older content left on a board", str(sum(map(len, self.stale_content.values())))),
            *((f"converged: {k}", f"{v:.1f} s") for k, v in self.phases.items()),
        ]
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


class Fleet:
    def __init__(
        self,
        root: Path,
        ledger_url: str,
        board: BoardServer,
        *,
        postings: int,
        boards: tuple[str, ...],
        workers: int = 3,
        seed: int = 16,
        claim_size: int = 100,
        timeout: float = 300.0,
        lease: float | None = None,
    ) -> None:
        """``lease``: the workers' lease in seconds (a short one lets pauses overtake it)."""
        self.board, self.boards, self.size = board, boards, workers
        engine = f"[engine]\nlease_seconds = {lease:g}\n\n" if lease else ""
        self.lease = lease or 300.0
        self.project = Project(
            root,
            ledger_url,
            board.url,
            datetime.now().astimezone(),
            boards=engine + board.config() + LIMITS,
            env=board.env(),
        )
        self.today = self.project.now.date()
        self.ids = [f"job-{i:05d}" for i in range(postings)]
        self.random = random.Random(seed)
        self.claim_size, self.timeout = claim_size, timeout  # seconds a phase may take
        self.db = sa.create_engine(ledger_url)
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []
        self.report = Report(postings, boards)
        self._lock = threading.Lock()

    # -- workers -------------------------------------------------------------------------
    def _spawn(self) -> subprocess.Popen[bytes]:
        log = self.project.root / f"worker-{len(self.logs)}.log"
        self.logs.append(log)
        return self.project.start(
            "run",
            "--every",
            "5",
            "--claim-size",
            str(self.claim_size),
            "--grace",
            "10",
            "--log-format",
            "json",
            log=log,
        )

    def start(self) -> None:
        self.procs = [self._spawn() for _ in range(self.size)]

    def kill_one(self, restart: bool = True) -> None:
        with self._lock:
            i = self.random.randrange(len(self.procs))
            self.procs[i].send_signal(signal.SIGKILL)
            self.procs[i].wait()
            self.report.kills += 1
            if restart:
                self.procs[i] = self._spawn()
            else:
                self.procs.pop(i)

    def stop_one(self, restart: bool = True) -> None:
        """SIGTERM a worker: it must finish what is in flight and exit 0."""
        with self._lock:
            i = self.random.randrange(len(self.procs))
            self.procs[i].send_signal(signal.SIGTERM)
            try:
                code = self.procs[i].wait(30)
            except subprocess.TimeoutExpired:
                self.procs[i].kill()
                code = -9
            if code != 0:
                self.report.bad_exits.append(f"{self.procs[i].args}: exit {code} on SIGTERM")
            self.report.stopped += 1
            if restart:
                self.procs[i] = self._spawn()
            else:
                self.procs.pop(i)

    def pause_one(self) -> None:
        """SIGSTOP a random worker for longer than a lease, then let it go on."""
        with self._lock:
            proc = self.procs[self.random.randrange(len(self.procs))]
            proc.send_signal(signal.SIGSTOP)
        time.sleep(self.lease + 2)
        proc.send_signal(signal.SIGCONT)  # (a no-op if it was killed meanwhile)
        self.report.pauses += 1

    def stop(self) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGCONT)  # a paused one must hear the SIGTERM
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.db.dispose()

    @contextmanager
    def killing(
        self, kills: int, every: tuple[float, float] = (1.0, 4.0), pauses: int = 0
    ) -> Iterator[None]:
        """SIGKILL ``kills`` random workers, and pause ``pauses`` past their lease, at
        random moments while the block runs."""
        done = threading.Event()

        def chaos(count: int, act: Callable[[], None]) -> None:
            for _ in range(count):
                if done.wait(self.random.uniform(*every)):
                    return
                act()

        threads = [
            threading.Thread(target=chaos, args=(kills, self.kill_one), daemon=True),
            threading.Thread(target=chaos, args=(pauses, self.pause_one), daemon=True),
        ]
        for thread in threads:
            thread.start()
        try:
            yield
        finally:
            done.set()
            for thread in threads:
                thread.join()

    # -- postings ------------------------------------------------------------------------
    def write(self, title: str = "Data Analyst") -> None:
        for posting in self.ids:
            self.project.write(
                posting,
                boards=self.boards,
                title=title,
                expires_at=self.today + timedelta(days=200),
            )

    # -- the ledger ----------------------------------------------------------------------
    def listings(self) -> list[sa.Row[Any]]:
        with self.db.connect() as conn:
            return list(
                conn.execute(
                    sa.text(
                        "SELECT posting_id, board, state, revision, refresh_count, external_ref "
                        "FROM listings"
                    )
                )
            )

    def quiescent(self) -> datetime | None:
        """When nothing runs and nothing is due: the next due time (or a far one)."""
        now = self.project.clock()
        with self.db.connect() as conn:
            running = conn.execute(
                sa.text("SELECT count(*) FROM due_work WHERE state = 'running'")
            ).scalar_one()
            due = conn.execute(
                sa.text("SELECT min(due_at) FROM due_work WHERE state = 'pending'")
            ).scalar_one()
        if running:
            return None
        if isinstance(due, str):  # (SQLite keeps text; both keep UTC)
            due = datetime.fromisoformat(due)
        if due is not None and due.tzinfo is None:
            due = due.replace(tzinfo=UTC)
        if due is not None and due <= now + timedelta(seconds=1):
            return None
        return due or now + timedelta(days=3650)

    def converge(self, phase: str, done: Callable[[sa.Row[Any]], bool]) -> None:
        """Wait until every listing is ``done``, moving time to the next due work when the
        fleet is idle; record how long it took, or what never got there."""
        started = time.monotonic()
        idle_since: float | None = None
        while time.monotonic() - started < self.timeout:
            rows = self.listings()
            if len(rows) == len(self.ids) * len(self.boards) and all(map(done, rows)):
                self.report.phases[phase] = time.monotonic() - started
                return
            nxt = self.quiescent()
            if nxt is None:
                idle_since = None
            elif idle_since is None:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since > 6:  # a whole tick saw nothing to do
                gap = nxt - self.project.clock() + timedelta(seconds=2)
                self.project.jump(seconds=min(gap, STEP).total_seconds())
                idle_since = None
            time.sleep(0.5)
        self.report.unconverged[phase] = [
            f"{r.posting_id}@{r.board}: {r.state}" for r in self.listings() if not done(r)
        ]

    def jump_when_idle(self, days: float) -> None:
        """Move time on by ``days`` once nothing runs or is due."""
        deadline = time.monotonic() + 120
        while self.quiescent() is None and time.monotonic() < deadline:
            time.sleep(0.5)
        self.project.jump(days=days)

    # -- the whole life ------------------------------------------------------------------
    def lifecycle(self, kills: int = 0, stops: int = 0, pauses: int = 0) -> Report:
        """Post, update, renew, expire, with ``kills`` SIGKILLs and ``pauses`` pauses past
        a lease spread over the phases and ``stops`` SIGTERMs (in the posting phase)."""
        per_phase = [kills // 4 + (1 if i < kills % 4 else 0) for i in range(4)]
        paused = [pauses // 4 + (1 if i < pauses % 4 else 0) for i in range(4)]
        self.write()
        self.start()
        with self.killing(per_phase[0], pauses=paused[0]):
            for _ in range(stops):
                time.sleep(self.random.uniform(1, 3))
                self.stop_one()
            self.converge("post", lambda r: r.state == "live")
        self.report.live_once = self._live_once()
        self.write(title="Senior Data Analyst")
        with self.killing(per_phase[1], pauses=paused[1]):
            self.converge("update", lambda r: r.state == "live" and r.revision == 2)
        if "linkedin" in self.boards:
            self.jump_when_idle(176)
            with self.killing(per_phase[2], pauses=paused[2]):
                self.converge("refresh", lambda r: r.board != "linkedin" or r.refresh_count >= 1)
        self.jump_when_idle(30 if "linkedin" in self.boards else 206)
        with self.killing(per_phase[3], pauses=paused[3]):
            self.converge("expire", lambda r: r.state == "expired")
        self.stop()
        self.tally()
        return self.report

    def _live_once(self) -> float:
        counts = self.board.counts()
        refs = {r.external_ref: r.board for r in self.listings()}
        once = sum(
            1
            for ref, board in refs.items()
            if counts[board]["open"].get(ref) == 1 and counts[board]["created"].get(ref) == 1
        )
        return once / max(1, len(refs))

    def tally(self) -> None:
        counts = self.report.counts = self.board.counts()
        for board in self.boards:
            many = {ref: n for ref, n in counts[board]["created"].items() if n > 1}
            many.update({ref: n for ref, n in counts[board]["open"].items() if n > 1})
            if many:
                self.report.duplicates[board] = many
        self.report.webhook_duplicates = counts["webhook"]["duplicates"]
        doubles = {
            "ziprecruiter": self.board.ziprecruiter.content,
            "linkedin": self.board.linkedin.content,
            "webhook": lambda ref: str((self.board.receivers[ref].posting or {}).get("title")),
        }
        for row in self.listings():  # what each board shows last: the newest content
            if (
                row.board in doubles
                and doubles[row.board](row.external_ref) != "Senior Data Analyst"
            ):
                self.report.stale_content.setdefault(row.board, []).append(row.external_ref)
        for board in self.boards:  # expired in the ledger, closed on the board
            still = [ref for ref, n in counts[board]["open"].items() if n]
            if still:
                self.report.unconverged.setdefault("closed on the board", []).extend(still)

    def log_lines(self) -> list[dict[str, Any]]:
        """Every worker's JSON log lines (a line that is not JSON fails here)."""
        return [
            json.loads(line)
            for log in self.logs
            for line in log.read_text().splitlines()
            if line.strip()
        ]
