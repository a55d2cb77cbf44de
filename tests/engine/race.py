"""Racing ``jobpub sync`` processes over one ledger: shared by the stress test (bounded, in
CI) and tests/bench/bench_race.py (3,000 postings x 40 rounds, by hand)."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tests.boardserver import BoardServer
from tests.engine.procs import Project


@dataclass
class RaceResult:
    rounds: int
    postings: int
    creates: int  # POSTs the board stored
    duplicates: dict[str, int]  # external reference -> open jobs, where more than one
    failed_runs: list[str]


def race(
    root: Path,
    ledger_url: str,
    now: datetime,
    existing: int,
    rounds: int,
    processes: int = 2,
    new_per_round: int = 2,
    seed: int = 7,
) -> RaceResult:
    """``existing`` postings synced first; then per round ``new_per_round`` new files and
    ``processes`` syncs started 0-0.6 s apart. The board does not refuse a second job with
    the same reference, so a double create shows as two open jobs."""
    board = BoardServer(unique_refs=False)
    shuffle = random.Random(seed)
    try:
        project = Project(root, ledger_url, board.url, now)
        for i in range(existing):
            project.write(f"job-{i:05d}")
        code, out = project.run("sync", timeout=600)
        failed = [] if code == 0 else [out]
        for n in range(rounds):
            for k in range(new_per_round):
                project.write(f"new-{n:03d}-{k}")
            children = []
            for _ in range(processes):
                children.append(project.start("sync"))
                time.sleep(shuffle.uniform(0, 0.6))
            for child in children:
                out_bytes, _ = child.communicate(timeout=600)
                if child.returncode != 0:
                    failed.append(out_bytes.decode())
        duplicates = {ref: len(jobs) for ref, jobs in board.open_jobs().items() if len(jobs) > 1}
        return RaceResult(
            rounds, existing + rounds * new_per_round, board.creates(), duplicates, failed
        )
    finally:
        board.close()
