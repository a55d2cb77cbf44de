"""Two real `jobpub sync` processes racing over one ledger never create a posting twice
(SQLite and PostgreSQL): 500 existing postings, 30 rounds of 2 new postings, the second
sync started 0-0.6 s after the first. By hand, at scale: tests/bench/bench_race.py."""

from __future__ import annotations

from pathlib import Path

import respx

from tests.engine.race import race
from tests.factories import NOW


def test_concurrent_syncs_create_each_posting_once(
    ledger_url: str, tmp_path: Path, http: respx.MockRouter
) -> None:
    http.route(host="127.0.0.1").pass_through()  # only the loopback board, from children
    result = race(tmp_path / "project", ledger_url, NOW, existing=500, rounds=30)
    assert result.failed_runs == []
    assert result.duplicates == {}
    assert result.creates == result.postings == 560
