"""Real ``jobpub sync`` processes for crash and race tests: the fake board's adapter
registered, the time given by the test (a fake clock that starts at ``JOBPUB_TEST_NOW``
and runs at real speed, so leases and backoff still pass), the board a real HTTP server
on 127.0.0.1 (tests/boardserver.py)."""

from __future__ import annotations

import os
import subprocess
import sys
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
start, t0 = datetime.fromisoformat(os.environ["JOBPUB_TEST_NOW"]), time.monotonic()
init = engine.Engine.__init__
def with_clock(self, *args, **kwargs):
    kwargs.setdefault("clock", lambda: start + timedelta(seconds=time.monotonic() - t0))
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

    def __init__(self, root: Path, ledger_url: str, board_url: str, now: datetime) -> None:
        self.root, self.now = root, now
        self.postings = root / "postings"
        self.postings.mkdir(parents=True, exist_ok=True)
        self.config = root / "jobpub.toml"
        self.config.write_text(CONFIG.format(ledger=ledger_url, url=board_url))
        from publisher.database import connect

        connect(ledger_url).dispose()  # made here: jobpub only creates the default ledger

    def write(self, posting_id: str, boards: tuple[str, ...] = ("fakeboard",),
              **changes: Any) -> Path:
        today = self.now.date()
        data = posting_data(id=posting_id, publish_at=today - timedelta(days=1),
                            expires_at=date(today.year + 1, 1, 31),
                            boards={board: {} for board in boards})
        data.update(changes)
        path = self.postings / f"{posting_id}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        env = {**os.environ, "JOBPUB_CONFIG": str(self.config), "PYTHONPATH": str(ROOT),
               "JOBPUB_TEST_NOW": self.now.isoformat()}
        return subprocess.Popen([sys.executable, "-c", CHILD, *(args or ("sync",))],
                                env=env, cwd=self.root, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)

    def run(self, *args: str, timeout: float = 120) -> tuple[int, str]:
        child = self.start(*args)
        out, _ = child.communicate(timeout=timeout)
        return child.returncode, out.decode()
