"""Benchmark: `jobpub validate` against check-jsonschema on the same posting files.

Run by hand (not collected by pytest):

    pip install check-jsonschema ruamel.yaml.clib
    python tests/bench/bench_validate.py [--runs 5] [--sizes 2000 10000]

It writes N distinct valid postings (and a copy with 5 % broken in several ways), then times
each tool as a whole process, one invocation over all files, the two tools' runs alternating
(paired), and prints a Markdown table of median wall times.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "tests/bench/_work"
#: Both tools run with compiled bytecode, as installed packages do (an editable checkout under
#: PYTHONDONTWRITEBYTECODE=1 would compile jobpub's modules from source on every run).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

CITIES = [
    ("Denver", "CO", "80202"),
    ("Austin", "TX", "73301"),
    ("Boston", "MA", "02108"),
    ("Seattle", "WA", "98101"),
    ("Chicago", "IL", "60601"),
    ("Miami", "FL", "33101"),
]
TITLES = [
    "Data Analyst",
    "Warehouse Associate",
    "Store Manager",
    "Backend Engineer",
    "Customer Support Specialist",
    "Marketing Coordinator",
    "Accountant",
]
BOARDS = ["google", "indeed_feed", "talent_feed", "careerjet_feed"]


def posting(i: int, rng: random.Random) -> str:
    city, region, postal = rng.choice(CITIES)
    title = rng.choice(TITLES)
    low = rng.randrange(40, 120) * 1000
    boards = "\n".join(f"  {b}: {{}}" for b in rng.sample(BOARDS, 2))
    duties = "\n".join(
        f"  - Duty {k} for posting {i}, keeping the {title.lower()} work moving"
        for k in range(rng.randrange(3, 7))
    )
    return f"""\
id: job-{i:05d}
title: {title}
company:
  name: Company {i % 97}
  url: https://company{i % 97}.example.com
employment_type: {rng.choice(["full_time", "part_time", "contract"])}
workplace: {rng.choice(["onsite", "hybrid"])}
locations:
  - city: {city}
    region: {region}
    country: US
    postal_code: "{postal}"
salary:
  min: {low}
  max: {low + rng.randrange(5, 40) * 1000}
  currency: USD
  period: year
summary: |
  Posting {i}: we are hiring a {title.lower()} to join a growing team in {city}.
  You will work with colleagues across the company and own your results.
responsibilities:
{duties}
qualifications:
  - {rng.randrange(1, 8)} years of relevant experience
  - Clear written communication
benefits:
  - Health insurance
  - Paid time off
eeo_statement: We are an equal opportunity employer.
apply:
  url: https://company{i % 97}.example.com/jobs/{i}
publish_at: "2026-12-0{rng.randrange(1, 9)}T09:00:00-07:00"
expires_at: "2027-0{rng.randrange(3, 9)}-15T17:00:00-07:00"
timezone: America/Denver
boards:
{boards}
"""


BREAKAGES = [
    lambda t: t.replace("employment_type:", "employment_typ:"),
    lambda t: t.replace("currency: USD", "currency: usd"),
    lambda t: t.replace("country: US", "country: 12"),
    lambda t: t.replace("title:", "title: [Job Title] #"),
    lambda t: t.replace("url: https://company", "url: ftp://company"),
    lambda t: t.replace("responsibilities:\n", "responsibilities: []\nx:\n"),
    lambda t: t.replace("workplace: onsite", "workplace: office").replace(
        "workplace: hybrid", "workplace: office"
    ),
]


def generate(count: int, broken_share: float) -> Path:
    folder = WORK / f"{count}-{int(broken_share * 100)}"
    if folder.exists():
        return folder
    folder.mkdir(parents=True)
    rng = random.Random(count)
    broken = set(rng.sample(range(count), int(count * broken_share)))
    for i in range(count):
        text = posting(i, rng)
        if i in broken:
            text = BREAKAGES[i % len(BREAKAGES)](text)
        (folder / f"job-{i:05d}.yaml").write_text(text)
    return folder


def timed(cmd: list[str], runs: int) -> tuple[float, list[float], int]:
    times, code = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, cwd=WORK, env=ENV)
        times.append(time.perf_counter() - start)
        code = done.returncode
    return statistics.median(times), times, code


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000])
    args = parser.parse_args()
    bindir = Path(sys.executable).parent
    jobpub, cjs = str(bindir / "jobpub"), shutil.which("check-jsonschema", path=str(bindir))
    if cjs is None:
        sys.exit("install check-jsonschema and ruamel.yaml.clib first")
    WORK.mkdir(parents=True, exist_ok=True)
    schema = WORK / "posting.schema.json"
    schema.write_bytes(subprocess.run([jobpub, "schema"], capture_output=True, check=True).stdout)
    empty_config = WORK / "empty.toml"
    empty_config.write_text('[boards.google]\nsite_url = "https://jobs.example.com/{id}"\n')
    print("| files | tool | median s | runs (s) | exit |")
    print("|---|---|---|---|---|")
    for size in args.sizes:
        for share in (0.0, 0.05):
            folder = generate(size, share)
            files = sorted(str(p) for p in folder.glob("*.yaml"))
            label = f"{size:,}" + (" (5 % invalid)" if share else "")
            rows = [
                (
                    "jobpub validate --format github",
                    [
                        jobpub,
                        "--config",
                        str(empty_config),
                        "validate",
                        "--format",
                        "github",
                        str(folder),
                    ],
                ),
                ("check-jsonschema + ruamel.yaml.clib", [cjs, "--schemafile", str(schema), *files]),
            ]
            results = {}
            for _, cmd in rows:  # a first run each, not counted (writes bytecode, warms caches)
                timed(cmd, 1)
            paired = [[timed(cmd, 1) for _, cmd in rows] for _ in range(args.runs)]
            for k, (name, _) in enumerate(rows):  # runs alternate: tool A, tool B, A, B...
                times = [run[k][0] for run in paired]
                median, code = statistics.median(times), paired[-1][k][2]
                results[name] = median
                runs = ", ".join(f"{t:.2f}" for t in times)
                print(f"| {label} | {name} | {median:.2f} | {runs} | {code} |", flush=True)
            ratio = results[rows[1][0]] / results[rows[0][0]]
            print(f"| {label} | speed-up | {ratio:.1f}x | | |", flush=True)


if __name__ == "__main__":
    main()
