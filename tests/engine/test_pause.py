"""A worker paused past its lease (SIGSTOP, as a VM freeze or a long GC pause does it) while
holding claimed work, taken over by another worker, then resumed (SIGCONT): real ``jobpub
sync`` processes, the board emulator on 127.0.0.1 (LinkedIn's batches and tasks,
ZipRecruiter, the webhook), SQLite and PostgreSQL, a 30-second lease.

Worker A is paused at one of three points: right after claiming, right after its pre-send
lease check, and with its first request answered by the board but not yet read (the call
in flight). Worker B takes the work over and finishes it; the postings are edited again and
synced; then A wakes up. Whatever A then does, the boards end with one job per reference
and the newest content, every change reached the webhook under one key (B sent A's key),
and the ledger shows what B did, with A's attempt in history as stale."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import respx
import sqlalchemy as sa

from publisher.database import connect
from tests.boardserver import BoardServer
from tests.engine.procs import CHILD, Project
from tests.factories import NOW, ROOT

#: The child of procs.CHILD, which stops itself (SIGSTOP) once at JOBPUB_TEST_PAUSE.
PAUSING = (
    """
import os, signal
point = os.environ["JOBPUB_TEST_PAUSE"]
paused = []
def stop():
    if not paused:
        paused.append(True)
        os.kill(os.getpid(), signal.SIGSTOP)
if point == "claimed":
    from publisher.ledger import Ledger
    claim = Ledger.claim
    def claimed(self, *args, **kwargs):
        rows = claim(self, *args, **kwargs)
        if rows[0]:
            stop()
        return rows
    Ledger.claim = claimed
elif point == "checked":
    from publisher.fencing import Leases
    check = Leases.check
    async def checked(self, *args, **kwargs):
        lost = await check(self, *args, **kwargs)
        if not lost:
            stop()
        return lost
    Leases.check = checked
else:  # "sent": the board has processed the first request; its answer is not read yet
    import publisher.http as http
    handle = http._Guarded.handle_async_request
    async def answered(self, request):
        response = await handle(self, request)
        if "oauth" not in request.url.path:
            stop()
        return response
    http._Guarded.handle_async_request = answered
"""
    + CHILD
)

BOARDS = """\
[engine]
lease_seconds = 30

{tables}"""
LI_REF, ZR_REF = "jobpub-li-job-linkedin", "jobpub-zr-job-ziprecruiter"


@pytest.fixture
def board(http: respx.MockRouter) -> Iterator[BoardServer]:
    http.route(host="127.0.0.1").pass_through()  # only the loopback board, from children
    server = BoardServer(unique_refs=False)
    yield server
    server.close()


def _stopped(pid: int) -> bool:
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] == "T"


def _converge(project: Project) -> None:
    """Syncs, six minutes apart (LinkedIn's tasks and probes), until nothing is left."""
    for _ in range(8):
        project.jump(minutes=6)
        code, out = project.run("sync")
        assert code == 0, out
        code, out = project.run("plan", "--json")
        assert code == 0, out
        if not [a for a in json.loads(out)["actions"] if a["due"] <= project.clock().isoformat()]:
            return
    raise AssertionError(f"still work to do: {out}")


def _events(url: str) -> list[tuple[str, str, str, str]]:
    from publisher.tables import events

    engine = connect(url)
    try:
        with engine.begin() as conn:
            return [
                tuple(r)
                for r in conn.execute(
                    sa.select(
                        events.c.posting_id, events.c.action, events.c.outcome, events.c.detail
                    ).order_by(events.c.id)
                )
            ]
    finally:
        engine.dispose()


@pytest.mark.parametrize("run", range(3))
@pytest.mark.parametrize("point", ["claimed", "checked", "sent"])
def test_a_worker_paused_past_its_lease_changes_nothing(
    point: str, run: int, ledger_url: str, tmp_path: Path, board: BoardServer
) -> None:
    project = Project(
        tmp_path / "project",
        ledger_url,
        board.url,
        NOW,
        env=board.env(),
        boards=BOARDS.format(
            tables=board.config().replace(
                "[boards.linkedin]\n", '[boards.linkedin]\norganization = "2414183"\n'
            )
        ),
    )
    project.write("zr-job", boards=("ziprecruiter",), title="Analyst v1")
    project.write("hook-job", boards=("webhook",), title="Planner v1")
    project.write("hook-end", boards=("webhook",), title="Closer v1")
    code, out = project.run("sync")
    assert code == 0, out
    # What A is to do: a LinkedIn create, a ZipRecruiter and a webhook update, a withdrawal.
    project.write("li-job", boards=("linkedin",), title="Engineer v1")
    project.write("zr-job", boards=("ziprecruiter",), title="Analyst v2")
    project.write("hook-job", boards=("webhook",), title="Planner v2")
    project.write("hook-end", boards=("webhook",), title="Closer v1", status="closed")
    env = {
        **os.environ,
        **project.env,
        "JOBPUB_CONFIG": str(project.config),
        "PYTHONPATH": str(ROOT),
        "JOBPUB_TEST_NOW": project.now.isoformat(),
        "JOBPUB_TEST_T0": repr(project.t0),
        "JOBPUB_TEST_JUMPS": str(project.jumps),
        "JOBPUB_TEST_PAUSE": point,
    }
    a = subprocess.Popen(
        [sys.executable, "-c", PAUSING, "sync"],
        env=env,
        cwd=project.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not _stopped(a.pid):
            assert a.poll() is None and time.monotonic() < deadline, a.communicate()[0]
            time.sleep(0.05)
        project.jump(minutes=2)  # A sleeps past its 30-second lease; B takes over
        code, out = project.run("sync")
        assert code == 0 and "took over interrupted work" in out, out
        _converge(project)
        project.write("zr-job", boards=("ziprecruiter",), title="Analyst v3")  # newer
        project.write("hook-job", boards=("webhook",), title="Planner v3")
        _converge(project)
        a.send_signal(signal.SIGCONT)  # A wakes up with what it was doing
        out_a = a.communicate(timeout=60)[0].decode()
    finally:
        a.kill()
    assert "stale attempt" in out_a, out_a
    _converge(project)  # whatever A's wake-up left to reconcile

    assert board.linkedin.created() == {LI_REF: 1}, out_a  # no duplicate create
    assert board.linkedin.open_refs() == {LI_REF: 1}
    assert board.ziprecruiter.creates == [ZR_REF]
    assert board.ziprecruiter.content(ZR_REF) == "Analyst v3"  # the newest content
    hook, end = (
        board.receivers["jobpub-hook-job-webhook"],
        board.receivers["jobpub-hook-end-webhook"],
    )
    assert hook.open and hook.posting["title"] == "Planner v3"
    assert not end.open
    assert board.duplicates == []  # no change applied twice under two keys
    keys = [key for _, key in hook.applied]
    assert len(keys) == len(set(keys)) == 3  # publish, v2, v3: A's v2 key was B's
    states = {(p, b): s for (p, b), s in _states(ledger_url).items()}
    assert states == {
        ("li-job", "linkedin"): "live",
        ("zr-job", "ziprecruiter"): "live",
        ("hook-job", "webhook"): "live",
        ("hook-end", "webhook"): "expired",
    }
    stale = [e for e in _events(ledger_url) if e[2] == "stale"]
    assert stale and all("not recorded" in e[3] for e in stale), stale


def _states(url: str) -> dict[tuple[str, str], str]:
    from publisher.tables import listings

    engine = connect(url)
    try:
        with engine.begin() as conn:
            return {
                (p, b): s
                for p, b, s in conn.execute(
                    sa.select(listings.c.posting_id, listings.c.board, listings.c.state)
                )
            }
    finally:
        engine.dispose()


SLOW = """\
[engine]
lease_seconds = 18

[boards.webhook]
url = "{url}/hook"

[limits.webhook]
concurrency = 1
deadline = 11
"""


def test_a_sync_slower_than_its_lease_keeps_its_work(
    ledger_url: str, tmp_path: Path, http: respx.MockRouter
) -> None:
    """A board answering after 9 s, one call at a time: the first sync's four calls take
    ~36 s, twice its 18-second lease. A second sync started after the lease would have ended
    finds nothing to take over (the first renews its leases while it runs): every change
    reaches the board once."""
    http.route(host="127.0.0.1").pass_through()
    board = BoardServer(latency=9.0)
    try:
        project = Project(
            tmp_path / "project", ledger_url, board.url, NOW, boards=SLOW.format(url=board.url)
        )
        for n in range(4):
            project.write(f"slow-{n}", boards=("webhook",), title=f"Planner {n}")
        first = project.start("sync")
        time.sleep(22)  # past the first sync's lease, while its third call is in flight
        assert first.poll() is None
        code, out = project.run("sync", timeout=60)
        assert code == 0 and "took over" not in out, out
        out_first = first.communicate(timeout=60)[0].decode()
        assert first.returncode == 0, out_first
    finally:
        board.close()
    assert [r.key for r in board.requests if r.path == "/hook"] == [
        f"jobpub-slow-{n}-webhook:post:r1:1" for n in range(4)
    ]
    assert board.duplicates == []
    assert _states(ledger_url) == {(f"slow-{n}", "webhook"): "live" for n in range(4)}
