"""Real ``jobpub sync`` processes for crash and race tests: the fake board's adapter
registered, the time given by the test (a fake clock that starts at ``JOBPUB_TEST_NOW``
and runs at real speed, so leases and backoff still pass; :meth:`Project.jump` moves it on
in every process at once), the board a real HTTP server on 127.0.0.1 (the emulator,
tests/boardserver.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from tests.factories import ROOT, posting_data

CHILD = """
import os, sys, time
from datetime import datetime, timedelta
from publisher.registry import boards
from tests.fakeboard import FakeBoardAdapter
boards()["fakeboard"] = FakeBoardAdapter
import publisher.engine as engine
start = datetime.fromisoformat(os.environ["JOBPUB_TEST_NOW"])
t0 = float(os.environ.get("JOBPUB_TEST_T0", time.time()))  # wall time at start: shared
jumps = os.environ.get("JOBPUB_TEST_JUMPS")  # a file: seconds the test moved time on
def now():
    ahead = float(open(jumps).read() or 0) if jumps and os.path.exists(jumps) else 0.0
    return start + timedelta(seconds=time.time() - t0 + ahead)
init = engine.Engine.__init__
def with_clock(self, *args, **kwargs):
    kwargs.setdefault("clock", now)
    init(self, *args, **kwargs)
engine.Engine.__init__ = with_clock
from publisher.cli import main
sys.argv = ["jobpub", *sys.argv[1:]]
main()
"""

CONFIG = """\
timezone = "America/Denver"
eeo_statement = "We are an equal opportunity employer."
ledger = "{ledger}"
postings_dir = "postings"

[company]
name = "Example Corp"

"""
BOARDS = """\
[boards.fakeboard]
base_url = "{url}"

[boards.webhook]
url = "{url}/hook"

[limits.fakeboard]
timeout = 1.0

[limits.webhook]
timeout = 1.0
"""


class Project:
    """A project folder whose ``jobpub`` runs are separate processes."""

    def __init__(
        self,
        root: Path,
        ledger_url: str,
        board_url: str,
        now: datetime,
        *,
        boards: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        """``boards``: the config's board tables (default: the fake board and the webhook
        at ``board_url``); ``env``: more environment for the children (credentials)."""
        self.root, self.now, self.env = root, now, env or {}
        self.t0 = time.time()  # children's clocks: now + (wall time since t0) + jumps
        self.postings = root / "postings"
        self.postings.mkdir(parents=True, exist_ok=True)
        self.config = root / "jobpub.toml"
        self.jumps = root / "clock-jumps"
        self.config.write_text(
            CONFIG.format(ledger=ledger_url) + (boards or BOARDS.format(url=board_url))
        )
        from publisher.database import connect

        connect(ledger_url).dispose()  # made here: jobpub only creates the default ledger

    def write(
        self, posting_id: str, boards: tuple[str, ...] = ("fakeboard",), **changes: Any
    ) -> Path:
        today = self.now.date()
        data = posting_data(
            id=posting_id,
            publish_at=today - timedelta(days=1),
            expires_at=date(today.year + 1, 1, 31),
            boards={board: {} for board in boards},
        )
        data.update(changes)
        path = self.postings / f"{posting_id}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    def start(self, *args: str, log: Path | None = None) -> subprocess.Popen[bytes]:
        """A ``jobpub`` child; its output piped, or written to ``log`` (long runs: a pipe
        nobody reads would fill up and stop it)."""
        env = {
            **os.environ,
            **self.env,
            "JOBPUB_CONFIG": str(self.config),
            "PYTHONPATH": str(ROOT),
            "JOBPUB_TEST_NOW": self.now.isoformat(),
            "JOBPUB_TEST_T0": repr(self.t0),
            "JOBPUB_TEST_JUMPS": str(self.jumps),
        }
        return subprocess.Popen(
            [sys.executable, "-c", CHILD, *(args or ("sync",))],
            env=env,
            cwd=self.root,
            stdout=log.open("wb") if log else subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )

    def clock(self) -> datetime:
        """The time the children see now."""
        return self.now + timedelta(seconds=time.time() - self.t0 + self.ahead())

    def ahead(self) -> float:
        return float(self.jumps.read_text() or 0) if self.jumps.exists() else 0.0

    def jump(self, **delta: float) -> None:
        """Move every child's clock on (running ones too)."""
        fresh = self.jumps.with_suffix(".new")
        fresh.write_text(str(self.ahead() + timedelta(**delta).total_seconds()))
        fresh.replace(self.jumps)  # atomic: a child never reads a half-written file

    def run(self, *args: str, timeout: float = 120) -> tuple[int, str]:
        child = self.start(*args)
        out, _ = child.communicate(timeout=timeout)
        return child.returncode, out.decode()
