"""The fleet's acceptance test, on real PostgreSQL: three ``jobpub run`` processes share
one ledger; 500 postings x 2 emulated boards (ZipRecruiter's API and the webhook) with
10 % faults (429 + Retry-After, 503, answers lost after the board stored the change,
dropped connections); one worker SIGKILLed mid-run, one stopped with SIGTERM. Every listing
ends live exactly once, no external reference is ever created twice, nothing is lost; then
every posting is updated and expired by the worker left. The logs are JSON lines."""

from __future__ import annotations

import time
from pathlib import Path

import respx

from tests.boardserver import BoardServer
from tests.engine.fleetrun import Fleet

BOARDS = ("ziprecruiter", "webhook")


def test_three_workers_on_postgresql_post_everything_once_despite_kills_and_faults(
    postgres_url: str, tmp_path: Path, http: respx.MockRouter
) -> None:
    http.route(host="127.0.0.1").pass_through()  # the emulator, from the children only
    board = BoardServer(faults=0.10, seed=16, hold_seconds=1.5, latency=0.005)
    fleet = Fleet(tmp_path / "project", postgres_url, board, postings=500, boards=BOARDS)
    try:
        fleet.write()
        fleet.start()
        total = 500 * len(BOARDS)

        def live() -> int:
            return sum(1 for r in fleet.listings() if r.state == "live")

        deadline = time.monotonic() + 120
        while live() < total * 0.2 and time.monotonic() < deadline:
            time.sleep(0.2)
        fleet.kill_one(restart=False)
        while live() < total * 0.5 and time.monotonic() < deadline:
            time.sleep(0.2)
        fleet.stop_one(restart=False)
        assert len(fleet.procs) == 1
        fleet.converge("post", lambda r: r.state == "live")
        fleet.report.live_once = fleet._live_once()
        fleet.write(title="Senior Data Analyst")
        fleet.converge("update", lambda r: r.state == "live" and r.revision == 2)
        fleet.jump_when_idle(206)
        fleet.converge("expire", lambda r: r.state == "expired")
    finally:
        fleet.stop()
        board.close()
    fleet.tally()
    report = fleet.report
    print(report.table())
    assert report.bad_exits == []
    assert report.live_once == 1.0
    assert report.duplicates == {} and report.webhook_duplicates == 0
    assert report.unconverged == {}
    assert (report.kills, report.stopped) == (1, 1)
    faults = report.counts["faults"]
    assert all(faults.get(kind, 0) > 10 for kind in ("429", "503", "hold", "reset")), faults
    actions = [line for line in fleet.log_lines() if line["event"] == "action"]
    assert {tuple(sorted(line)) for line in actions} >= {
        (
            "action",
            "attempt",
            "board",
            "duration_ms",
            "event",
            "outcome",
            "posting",
            "time",
            "worker",
        )
    }
    assert {line["action"] for line in actions} == {"post", "update", "expire"}
