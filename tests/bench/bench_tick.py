"""Benchmark: one scheduler tick on a big ledger, by hand (results in the README).

    python tests/bench/bench_tick.py --listings 100000 --due 0.01 [--ledger URL] [--runs 3]

The ledger is built through the project's migrations, then filled by SQL: N queued
postings, one live listing each on an API board whose refresh is due for the share
``--due`` of them (the rest are due in days). A tick is ``jobpub sync`` as ``run`` does it:
incremental, the due refreshes sent to an in-process board (no latency). Each tick runs in
a fresh process (its time and peak RSS are its own); the ledger is rebuilt before each run
so every tick finds the same due work (a SQLite ledger is built once and copied). Prints one
table row per run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(Path(__file__).parent)]

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
BOARD = "fake_a"


def build(url: str, listings: int, due: float) -> None:
    import sqlalchemy as sa

    from publisher.database import connect
    from publisher.engine import Engine
    from publisher.ledger import Ledger, content_hash, listing_hash
    from publisher.tables import engine_state, metadata
    from publisher.tables import listings as listing_table
    from publisher.tables import postings as posting_table
    from tests.factories import make_posting

    if url.startswith("postgresql"):
        from tests.engine.conftest import _reset_postgres

        _reset_postgres(url)
    else:
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    engine = connect(url, create=True)
    template = make_posting(
        boards={BOARD: {}}, publish_at=None, expires_at=(NOW + timedelta(days=300)).date()
    )
    every = max(1, round(1 / due)) if due else listings + 1
    rows_p, rows_l = [], []
    for i in range(listings):
        posting = template.model_copy(update={"id": f"job-{i:07d}"})
        digest = content_hash(posting)
        spec = posting.model_dump_json(exclude_unset=True)
        rows_p.append(
            {
                "id": posting.id,
                "revision": 1,
                "content_hash": digest,
                "spec": spec,
                "spec_hash": "x",
                "source": "queue",
                "timezone": "UTC",
                "updated_at": NOW,
            }
        )
        posted = NOW - timedelta(days=8 if i % every == 0 else 3)
        rows_l.append(
            {
                "posting_id": posting.id,
                "board": BOARD,
                "state": "live",
                "external_ref": f"jobpub-{posting.id}-{BOARD}",
                "board_id": str(i),
                "revision": 1,
                "content_hash": listing_hash(digest, posting, BOARD),
                "posted_at": posted,
                "refresh_count": 0,
                "attempts": 0,
                "reconcile": False,
                "changed_at": posted,
                "version": 1,
                "expires_at": NOW + timedelta(days=300),
                "next_due_at": posted + timedelta(days=7),
            }
        )
        if len(rows_p) == 20_000 or i == listings - 1:
            with engine.begin() as conn:
                conn.execute(sa.insert(posting_table), rows_p)
                conn.execute(sa.insert(listing_table), rows_l)
            rows_p, rows_l = [], []
    config = _config(url)
    fingerprint = Engine(config, Ledger(engine))._fingerprint.hex()
    with engine.begin() as conn:
        conn.execute(sa.insert(engine_state), [{"key": "plan", "value": fingerprint}])
        if engine.dialect.name == "sqlite":
            conn.execute(sa.text("ANALYZE"))
    if engine.dialect.name == "postgresql":  # as autovacuum would have by then
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
    assert metadata is not None
    engine.dispose()


def _config(url: str):  # type: ignore[no-untyped-def]
    from publisher.config import load_config
    from publisher.registry import boards as registered
    from tests.fakeboard import FakeBoardAdapter

    registered()[BOARD] = type(
        "Bench_a", (FakeBoardAdapter,), {"name": BOARD, "default_base_url": f"https://{BOARD}.test"}
    )
    work = ROOT / "tests/bench/_work/tick"
    (work / "postings").mkdir(parents=True, exist_ok=True)
    (work / "jobpub.toml").write_text(
        f'ledger = "{url}"\npostings_dir = "{work / "postings"}"\n[boards.{BOARD}]\n'
    )
    return load_config(work / "jobpub.toml")


async def tick(url: str) -> dict[str, float]:
    import httpx

    from publisher.database import connect
    from publisher.engine import Engine
    from publisher.http import Clients
    from publisher.ledger import Ledger
    from tests.fakeboard import FakeBoard

    config = _config(url)
    board = FakeBoard(None, f"https://{BOARD}.test")

    async def serve(request: httpx.Request) -> httpx.Response:
        job_id = request.url.path.strip("/").split("/")[2]
        board.jobs.setdefault(
            job_id,
            {
                "id": job_id,
                "status": "open",
                "refreshed": 0,
                "url": f"https://{BOARD}.test/jobs/{job_id}",
            },
        )
        return await board.handle(request)

    engine = Engine(
        config,
        Ledger(connect(url)),
        clock=lambda: NOW,
        clients=Clients(transport=httpx.MockTransport(serve)),
    )
    started = time.perf_counter()
    result = await engine.sync()
    seconds = time.perf_counter() - started
    await engine.aclose()
    return {
        "seconds": seconds,
        "done": len(result.outcomes),
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--due", type=float, default=0.01)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--ledger", help="PostgreSQL URL of an empty database (default: a SQLite file)"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = args.ledger or f"sqlite:///{ROOT}/tests/bench/_work/tick/ledger.db"
    if args.child:
        print(json.dumps(asyncio.run(tick(url))))
        return
    work = ROOT / "tests/bench/_work/tick"
    work.mkdir(parents=True, exist_ok=True)
    for run in range(args.runs):
        started = time.perf_counter()
        if args.ledger or run == 0:
            build(url, args.listings, args.due)
            if not args.ledger:  # the same ledger again for the next runs: a copy of it
                shutil.copyfile(work / "ledger.db", work / "built.db")
        else:
            shutil.copyfile(work / "built.db", work / "ledger.db")
        built = time.perf_counter() - started
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                "--listings",
                str(args.listings),
                *(["--ledger", url] if args.ledger else []),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        got = json.loads(out.splitlines()[-1])
        print(
            f"| {args.listings:,} | {args.due * 100:g} % | {url.split(':')[0]} | "
            f"{int(got['done']):,} | {got['seconds']:.2f} s | {got['rss_mb']:.0f} MB | "
            f"(built in {built:.0f} s) |",
            flush=True,
        )


if __name__ == "__main__":
    main()
