"""Benchmark: `jobpub sync` of N postings to 3 HTTP boards with a fixed latency per call.

Run by hand (not collected by pytest):

    python tests/bench/bench_sync.py [--postings 10000] [--latency 0.02] [--concurrency 4]
                                     [--ledger URL]

Each board is the in-process fake board (tests/fakeboard.py) behind httpx.MockTransport,
sleeping ``latency`` seconds per call. The ideal wall time is calls x latency / total concurrency
(every board's workers always busy, no other cost). The first sync posts everything (it
also validates the files and fills the ledger); the second finds nothing to do. Peak
memory is the process's maximum resident set size after the first sync, and after both
(the fake boards' own stores of 30,000 jobs count too).
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import itertools
import random
import re
import resource
import shutil
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(Path(__file__).parent)]

import httpx  # noqa: E402
from bench_validate import WORK, posting  # noqa: E402

from publisher.config import load_config  # noqa: E402
from publisher.database import connect  # noqa: E402
from publisher.engine import Engine  # noqa: E402
from publisher.http import Clients  # noqa: E402
from publisher.ledger import Ledger  # noqa: E402
from publisher.registry import boards as registered  # noqa: E402
from tests.fakeboard import FakeBoard, FakeBoardAdapter  # noqa: E402

BOARDS = ("fake_a", "fake_b", "fake_c")


class Answers:
    """The boards' latency kept by a thread: each answer is due at its time and wakes the
    event loop through its self-pipe, as an answer arriving on a socket does. (Waited with
    ``asyncio.sleep``, the boards themselves answered 1.9 ms late, median, on this machine:
    epoll waits in whole milliseconds, rounded up — 10 % over the latency, charged to
    jobpub. ``--asyncio-sleep`` measures that way.)"""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop, self.due = loop, []  # type: ignore[var-annotated]
        self.ready = threading.Condition()
        self.count = itertools.count()
        threading.Thread(target=self._wake, daemon=True).start()

    async def after(self, seconds: float) -> None:
        future = self.loop.create_future()
        with self.ready:
            heapq.heappush(self.due, (time.monotonic() + seconds, next(self.count), future))
            self.ready.notify()
        await future

    def _wake(self) -> None:
        with self.ready:
            while True:
                now = time.monotonic()
                while self.due and self.due[0][0] <= now:
                    future = heapq.heappop(self.due)[2]
                    self.loop.call_soon_threadsafe(future.set_result, None)
                self.ready.wait(self.due[0][0] - now if self.due else None)


def board_class(name: str) -> type[FakeBoardAdapter]:
    return type(
        f"Bench_{name}",
        (FakeBoardAdapter,),
        {"name": name, "default_base_url": f"https://{name}.test"},
    )


def generate(count: int, folder: Path) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    rng = random.Random(count)
    boards = "boards:\n" + "".join(f"  {b}: {{}}\n" for b in BOARDS)
    for i in range(count):
        text = posting(i, rng)
        text = re.sub(r"publish_at: .*\n", "publish_at: 2026-11-01\n", text)
        text = re.sub(r"expires_at: .*\n", "expires_at: 2099-12-31\n", text)
        text = text[: text.index("boards:")] + boards
        (folder / f"job-{i:05d}.yaml").write_text(text)


async def main(args: argparse.Namespace) -> None:
    work = WORK / "sync"
    generate(args.postings, work / "postings")
    ledger_url = args.ledger or f"sqlite:///{work}/ledger.db"
    if args.ledger:  # start from an empty ledger
        from tests.engine.conftest import _reset_postgres

        _reset_postgres(args.ledger)
    else:
        Path(f"{work}/ledger.db").unlink(missing_ok=True)
    limits = "".join(f"[limits.{b}]\nconcurrency = {args.concurrency}\n" for b in BOARDS)
    (work / "jobpub.toml").write_text(
        f'ledger = "{ledger_url}"\npostings_dir = "{work / "postings"}"\n'
        + "".join(f"[boards.{b}]\n" for b in BOARDS)
        + limits
    )
    for name in BOARDS:  # registered first: the config names them
        registered()[name] = board_class(name)
    config = load_config(work / "jobpub.toml")
    boards = {f"{b}.test": FakeBoard(None, f"https://{b}.test", args.latency) for b in BOARDS}
    if not args.asyncio_sleep:
        answers = Answers(asyncio.get_running_loop())
        for board in boards.values():
            board.sleep = answers.after

    async def serve(request: httpx.Request) -> httpx.Response:
        return await boards[request.url.host].handle(request)

    # The boards answer in process, through httpx's MockTransport: only the latency and
    # jobpub's own work count (respx's route matching would add its cost to every call).
    clients = Clients(transport=httpx.MockTransport(serve))
    ledger = Ledger(connect(ledger_url))
    engine = Engine(config, ledger, clients=clients)
    started = time.perf_counter()
    first = await engine.sync()
    first_s = time.perf_counter() - started
    first_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    done = len(first.outcomes)
    del first
    started = time.perf_counter()
    second = await engine.sync()
    second_s = time.perf_counter() - started
    await engine.aclose()
    calls = sum(len(b.calls) for b in boards.values())
    live = sum(len(b.live()) for b in boards.values())
    ideal = calls * args.latency / (args.concurrency * len(BOARDS))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert live == args.postings * len(BOARDS) == done, (live, done)
    assert not second.outcomes
    print(
        f"| {args.postings:,} postings x {len(BOARDS)} boards | {calls:,} | "
        f"{args.latency * 1000:g} ms | {args.concurrency} per board | {ideal:.1f} s | "
        f"{first_s:.1f} s ({first_s / ideal:.2f}x) | {second_s:.1f} s | {first_rss:.0f} MB / "
        f"{rss_mb:.0f} MB |"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postings", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument(
        "--ledger", help="PostgreSQL ledger URL, emptied first (default: a fresh SQLite file)"
    )
    parser.add_argument(
        "--asyncio-sleep",
        action="store_true",
        help="the boards wait their latency with asyncio.sleep",
    )
    print(
        "| run | calls | latency | concurrency | ideal | first sync | second sync "
        "| peak RSS (first / both) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    asyncio.run(main(parser.parse_args()))
