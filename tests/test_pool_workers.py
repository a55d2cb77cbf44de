"""A ``jobpub validate`` (or a ``jobpub run`` validating a big change) SIGKILLed while its
worker processes check files leaves none of them behind: they die with it (Linux)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.factories import ROOT, posting_text


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_validate_workers_die_with_their_parent(tmp_path: Path) -> None:
    from publisher.validate import PARALLEL_FROM

    text = posting_text()
    for i in range(max(PARALLEL_FROM * 8, 3200)):  # a pool that runs for a while
        (tmp_path / f"job-{i:05d}.yaml").write_text(text.replace("data-analyst", f"job-{i:05d}"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    parent = subprocess.Popen(
        [sys.executable, "-m", "publisher", "validate", str(tmp_path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline, workers = time.monotonic() + 60, []
    while not workers and time.monotonic() < deadline and parent.poll() is None:
        workers = children(parent.pid)
        time.sleep(0.01)
    assert workers, "the validation finished before its workers were seen: more files"
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while any(alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [w for w in workers if alive(w)] == []
