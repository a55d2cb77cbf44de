"""Chaos, bounded for CI: a real HTTP board on 127.0.0.1 faulting a fifth of its requests
(429 with Retry-After, 503, answers held past the client's timeout after storing,
connections reset after storing), postings created, edited, deleted and restored on the
fake board and the webhook, and `jobpub sync` processes SIGKILLed mid-run. At the end every
receiver's view equals the ledger's: no withdrawal lost, no change dropped by key, no
duplicate - on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import random
import signal
from datetime import timedelta
from pathlib import Path
from typing import Any

import respx
import sqlalchemy as sa

from publisher.database import connect
from tests.boardserver import BoardServer, wait_until
from tests.engine.procs import Project
from tests.factories import NOW

BOARDS = ("fakeboard", "webhook")


def _ledger_view(url: str) -> dict[tuple[str, str], tuple[str, str | None, str]]:
    """(posting, board) -> (state, board id, title last sent)."""
    from publisher.tables import listings, postings

    engine = connect(url)
    try:
        with engine.begin() as conn:
            specs = dict(conn.execute(sa.select(postings.c.id, postings.c.spec)).all())
            rows = conn.execute(
                sa.select(
                    listings.c.posting_id, listings.c.board, listings.c.state, listings.c.board_id
                )
            ).all()
    finally:
        engine.dispose()
    return {
        (p, b): (state, board_id, json.loads(specs[p])["title"]) for p, b, state, board_id in rows
    }


def _converge(project: Project, board: BoardServer) -> None:
    """Faults off; time moves on (an hour a run) until nothing is left to do."""
    board.fault_rate = 0.0
    for _ in range(8):
        project.now += timedelta(hours=1)
        code, out = project.run("sync")
        assert code == 0, out
        code, out = project.run("plan", "--json")
        if code == 0 and json.loads(out)["actions"] == []:
            return
    raise AssertionError(f"still work to do: {out}")


def test_chaos_every_receiver_matches_the_ledger(
    ledger_url: str, tmp_path: Path, http: respx.MockRouter
) -> None:
    http.route(host="127.0.0.1").pass_through()  # only the loopback board, from children
    board = BoardServer(faults=0.2, seed=11, unique_refs=False, hold_seconds=2.0)
    rnd = random.Random(5)
    try:
        project = Project(tmp_path / "project", ledger_url, board.url, NOW)
        titles: dict[str, str] = {}
        deleted: set[str] = set()

        def write(pid: str, title: str) -> None:
            titles[pid] = title
            project.write(pid, boards=BOARDS, title=title)

        for i in range(8):
            write(f"job-{i}", f"Analyst {i}")
        kills = 0
        for n in range(10):
            live = sorted(set(titles) - deleted)
            for pid in rnd.sample(live, 2):  # edits
                write(pid, f"{titles[pid].split(' v')[0]} v{n}")
            write(f"new-{n}", f"Planner {n}")
            if n % 2 == 0:
                gone = rnd.choice(sorted(set(titles) - deleted))
                (project.postings / f"{gone}.yaml").unlink()
                deleted.add(gone)
            elif deleted:
                back = rnd.choice(sorted(deleted))
                deleted.discard(back)
                write(back, titles[back])
            seen = len(board.requests)
            child = project.start("sync")
            if n % 3 != 2:  # kill it once the board has taken a few requests
                wanted = seen + rnd.randint(1, 8)
                wait_until(
                    lambda w=wanted, c=child: (
                        len(board.requests) >= w  # type: ignore[misc]
                        or c.poll() is not None
                    ),
                    60,
                )
                if child.poll() is None:
                    child.send_signal(signal.SIGKILL)
                    kills += 1
            child.communicate(timeout=300)
            project.now += timedelta(minutes=10)
        _converge(project, board)

        assert kills >= 4
        faults = [r.fault for r in board.requests if r.fault]
        assert {"429", "503", "hold", "reset"} <= set(faults), faults
        view = _ledger_view(ledger_url)
        _assert_boards_match(view, board, titles, deleted)
    finally:
        board.close()


def _assert_boards_match(
    view: dict[tuple[str, str], tuple[str, str | None, str]],
    board: BoardServer,
    titles: dict[str, str],
    deleted: set[str],
) -> None:
    open_jobs = board.open_jobs()
    assert {ref: len(jobs) for ref, jobs in open_jobs.items() if len(jobs) > 1} == {}
    assert board.duplicates == []
    expected: dict[str, Any] = {}
    for pid, title in titles.items():
        for name in BOARDS:
            state, board_id, sent = view[(pid, name)]
            ref = f"jobpub-{pid}-{name}"
            if pid in deleted:
                assert state == "expired", (pid, name, state)
            else:
                assert (state, sent) == ("live", title), (pid, name, state, sent)
            expected[ref] = state
            if name == "fakeboard":
                jobs = open_jobs.get(ref, [])
                if state == "live":
                    assert [(j["id"], j["title"]) for j in jobs] == [(board_id, title)], ref
                else:
                    assert jobs == [], ref
            else:
                receiver = board.receivers.get(ref)
                assert receiver is not None, ref
                assert receiver.open == (state == "live"), (ref, receiver.applied)
                if state == "live":
                    assert receiver.posting is not None
                    assert receiver.posting["title"] == title, (ref, receiver.applied)
    assert set(expected) >= set(open_jobs)  # nothing on the board the ledger does not know
