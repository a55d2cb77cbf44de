"""Benchmark: `jobpub sync` with every feed and page board (the five XML feeds and the
careers site): the first sync, a sync with nothing to do, and a sync after one posting changed.

Run by hand (not collected by pytest):

    python tests/bench/bench_feeds.py [--postings 10000] [--runs 3]

Writes N postings for all six file boards, runs `sync` in process on a fresh SQLite ledger
(writing into a temporary public/ folder), then times `runs` no-op syncs and `runs` syncs
each after one posting's title changed. Each sync starts with an empty in-memory HTML cache,
as a new `jobpub sync` process would (the cache folder stays). Prints medians (and every run)
and peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import resource
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(Path(__file__).parent)]

from bench_validate import WORK, posting  # noqa: E402

from publisher import render  # noqa: E402
from publisher.config import load_config  # noqa: E402
from publisher.database import connect  # noqa: E402
from publisher.engine import Engine  # noqa: E402
from publisher.ledger import Ledger  # noqa: E402

FILE_BOARDS = (
    "google",
    "indeed_feed",
    "talent_feed",
    "jooble_feed",
    "careerjet_feed",
    "adzuna_feed",
)


def generate(count: int, folder: Path) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    rng = random.Random(count)
    boards = "boards:\n" + "".join(f"  {b}: {{}}\n" for b in FILE_BOARDS)
    for i in range(count):
        text = posting(i, rng)
        text = re.sub(r"publish_at: .*\n", "publish_at: 2026-11-01\n", text)
        text = re.sub(r"expires_at: .*\n", "expires_at: 2099-12-31\n", text)
        (folder / f"job-{i:05d}.yaml").write_text(text[: text.index("boards:")] + boards)


async def timed(engine: Engine) -> float:
    render._CACHE.clear()  # as a new process (cron) finds it: only the cache folder
    started = time.perf_counter()
    result = await engine.sync()
    assert not [o for o in result.outcomes if o.state == "failed"], result.outcomes[:3]
    return time.perf_counter() - started


async def main(args: argparse.Namespace) -> None:
    work = WORK / "feeds"
    generate(args.postings, work / "postings")
    shutil.rmtree(work / "public", ignore_errors=True)
    shutil.rmtree(work / ".jobpub", ignore_errors=True)  # the first sync renders everything
    Path(f"{work}/ledger.db").unlink(missing_ok=True)
    url = "https://careers.example.com/jobs/{id}.html"
    (work / "jobpub.toml").write_text(
        f'ledger = "sqlite:///{work}/ledger.db"\npostings_dir = "{work / "postings"}"\n'
        f'[company]\nname = "Example Corp"\nemail = "jobs@example.com"\n'
        f'[boards.google]\nsite_url = "{url}"\noutput_dir = "{work / "public"}"\n'
        + "".join(
            f'[boards.{b}]\njob_url = "{url}"\noutput_dir = "{work / "public"}"\n'
            for b in FILE_BOARDS[1:]
        )
    )
    engine = Engine(
        load_config(work / "jobpub.toml"), Ledger(connect(f"sqlite:///{work}/ledger.db"))
    )
    first = await timed(engine)
    noop = [await timed(engine) for _ in range(args.runs)]
    changed = []
    for run in range(args.runs):
        path = work / "postings/job-00000.yaml"
        text = re.sub(r"title: .*\n", f"title: Analyst {run}\n", path.read_text(), count=1)
        path.write_text(text)
        changed.append(await timed(engine))
    await engine.aclose()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def cell(runs: list[float]) -> str:
        return f"{statistics.median(runs):.2f} s ({', '.join(f'{r:.2f}' for r in runs)})"

    print(f"| {args.postings:,} | {first:.1f} s | {cell(noop)} | {cell(changed)} | {rss:.0f} MB |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postings", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    print(
        "| postings | first sync | no-op sync (median) | one posting changed (median) | peak RSS |"
    )
    print("|---|---|---|---|---|")
    asyncio.run(main(parser.parse_args()))
