"""Racing `jobpub sync` processes at scale (run by hand; results in the README).

    python tests/bench/bench_race.py [--postings 3000] [--rounds 40] [--processes 2]
        [--ledger URL]   # default: a fresh SQLite file; PostgreSQL: an empty database

Each round writes 2 new posting files and starts the syncs 0-0.6 s apart against a real
HTTP board on 127.0.0.1 that accepts duplicate references, then counts open jobs per
reference: any count above 1 is a double create.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.engine.race import race
from tests.factories import NOW


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postings", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--ledger", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.ledger or f"sqlite:///{tmp}/ledger.db"
        start = time.monotonic()
        result = race(Path(tmp) / "project", url, NOW, args.postings, args.rounds, args.processes)
        took = time.monotonic() - start
    print(
        f"{args.processes} processes x {result.rounds} rounds over {args.postings} "
        f"postings ({url.split(':')[0]}): {result.creates} creates for {result.postings} "
        f"postings, {len(result.duplicates)} duplicated, {len(result.failed_runs)} failed "
        f"runs, {took:.0f} s"
    )
    for output in result.failed_runs:
        print("--- a failed run:\n" + "\n".join(output.splitlines()[-15:]))
    sys.exit(1 if result.duplicates or result.failed_runs else 0)


if __name__ == "__main__":
    main()
