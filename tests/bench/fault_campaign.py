"""The fault campaign (run by hand; results in the README's Reliability section).

    python tests/bench/fault_campaign.py --ledger postgresql+psycopg://user:pw@127.0.0.1/db
        [--postings 2000] [--faults 0.2] [--kills 20] [--pauses 20] [--workers 3] [--seed 16]

Three ``jobpub run`` workers on one PostgreSQL ledger (emptied first) take postings x 3
emulated boards (ZipRecruiter, LinkedIn with its asynchronous tasks, the webhook) through
post, update, renewal and expiry, while the emulator faults a share of all requests (429 +
Retry-After, 503, stored-then-timeout, stored-then-dropped, evenly) and random workers are
SIGKILLed (and started again) at random moments, and random workers paused (SIGSTOP) for
longer than their lease and then let go on (SIGCONT; with pauses the workers run with a
6-second lease). It prints: listings live exactly once after posting (must be 100 %),
duplicates on the boards (0), actions lost (0), jobs whose board shows older content at the
end (0) and the time each phase took to converge; exit 1 if any of these fails. The CI-sized run is
tests/engine/test_fault_campaign.py.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import sqlalchemy as sa

from publisher.tables import metadata
from tests.boardserver import BoardServer
from tests.engine.fleetrun import Fleet, Report

BOARDS = ("ziprecruiter", "linkedin", "webhook")


#: The workers' lease when the campaign pauses them: short, so a pause overtakes it.
PAUSE_LEASE = 6.0


def campaign(
    root: Path,
    ledger: str,
    *,
    postings: int,
    faults: float,
    kills: int,
    pauses: int = 0,
    workers: int = 3,
    seed: int = 16,
    timeout: float = 900.0,
) -> Report:
    engine = sa.create_engine(ledger)  # an empty ledger: the workers migrate it
    with engine.begin() as conn:
        metadata.drop_all(conn)
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    board = BoardServer(faults=faults, seed=seed, hold_seconds=1.5, latency=0.005)
    fleet = Fleet(
        root,
        ledger,
        board,
        postings=postings,
        boards=BOARDS,
        workers=workers,
        seed=seed,
        timeout=timeout,
        lease=PAUSE_LEASE if pauses else None,
    )
    try:
        return fleet.lifecycle(kills=kills, pauses=pauses)
    finally:
        fleet.stop()
        board.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ledger", required=True, help="an empty PostgreSQL database URL")
    parser.add_argument("--postings", type=int, default=2000)
    parser.add_argument("--faults", type=float, default=0.2)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument(
        "--pauses",
        type=int,
        default=20,
        help="workers paused past their lease at random (SIGSTOP, SIGCONT)",
    )
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report = campaign(
            Path(tmp),
            args.ledger,
            postings=args.postings,
            faults=args.faults,
            kills=args.kills,
            pauses=args.pauses,
            workers=args.workers,
            seed=args.seed,
            timeout=3600,
        )
    print(report.table())
    for line in report.counts.get("webhook", {}).get("duplicated", []):
        print(f"  webhook: {line}")
    ok = (
        report.live_once == 1.0
        and not report.duplicates
        and not report.lost
        and not report.webhook_duplicates
        and not report.bad_exits
        and not report.stale_content
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
