"""Evaluation of faster YAML parsers against jobpub's loader (issue 15, item 4), by hand:

    pip install rapidyaml   # into a scratch virtualenv with jobpub (yaml_rs is a dependency)
    python tests/bench/eval_yaml.py [POSTING_FILE]

For each strictness case jobpub's loader guarantees (duplicate keys, tags, leading-zero
numbers, YAML 1.1 booleans, dates kept as text, several documents, merge keys, alias
bombs) it prints what jobpub's loader, PyYAML's C safe loader and yaml_rs do, then the
time per file of each on a real posting (rapidyaml: parsing to its tree only — it builds
no Python objects). yaml_rs was adopted behind gates (publisher/fast_yaml.py): "jobpub" is
the loader as it runs (yaml_rs where the gates let it), "jobpub, PyYAML way" the strict way.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import yaml

from publisher.loader import load_document

CASES = {
    "duplicate key": "a: 1\na: 2\n",
    "python tag": "a: !!python/object:os.system x\n",
    "custom tag": "a: !custom x\n",
    "leading-zero number": "zip: 012345\n",
    "NO (a YAML 1.1 boolean)": "country: NO\n",
    "date": "d: 2026-12-01\n",
    "impossible date": "d: 2026-02-30\n",
    "several documents": "a: 1\n---\nb: 2\n",
    "merge key": "base: &b {x: 1}\nc:\n  <<: *b\n",
    "alias bomb": "a: &a [1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n",
}


def parsers() -> dict[str, Callable[[str], Any]]:
    found: dict[str, Callable[[str], Any]] = {
        "jobpub": lambda text: load_document(text)[0],
        "jobpub, PyYAML way": lambda text: load_document(text, fast=False)[0],
        "PyYAML C safe": lambda text: yaml.load(text, Loader=yaml.CSafeLoader),
    }
    try:
        import yaml_rs

        found["yaml_rs"] = lambda text: yaml_rs.loads(text, parse_datetime=False)
    except ImportError:
        print("(yaml_rs is not installed)")
    return found


def shown(parse: Callable[[str], Any], text: str) -> str:
    try:
        value = repr(parse(text))
    except Exception as exc:
        return f"refused ({type(exc).__name__})"
    return value if len(value) < 40 else value[:37] + "..."


def main() -> None:
    found = parsers()
    print("| case | " + " | ".join(found) + " |")
    print("|---" * (len(found) + 1) + "|")
    for name, text in CASES.items():
        print(f"| {name} | " + " | ".join(shown(p, text) for p in found.values()) + " |")
    sample = Path(
        sys.argv[1]
        if len(sys.argv) > 1
        else sorted((Path(__file__).resolve().parents[2] / "postings").glob("*.yaml"))[0]
    )
    text = sample.read_text()
    timings = dict(found)
    try:
        import ryml

        timings["rapidyaml (tree only)"] = lambda t: ryml.parse_in_arena(t.encode())
    except ImportError:
        print("(rapidyaml is not installed)")
    for name, parse in timings.items():
        runs = 2000
        started = time.perf_counter()
        for _ in range(runs):
            parse(text)
        print(f"{name}: {(time.perf_counter() - started) / runs * 1e6:.0f} µs per file")


if __name__ == "__main__":
    main()
