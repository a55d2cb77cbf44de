"""The fault campaign, CI-sized (the full run is tests/bench/fault_campaign.py): three
``jobpub run`` workers on PostgreSQL, 100 postings x ZipRecruiter, LinkedIn (batches and
asynchronous tasks) and the webhook through post, update, renewal and expiry, with 20 %
faults, 3 random SIGKILLs and 3 workers paused past their (6-second) lease: every listing
live exactly once, no duplicate, nothing lost, the newest content on every board."""

from __future__ import annotations

from pathlib import Path

import respx

from tests.bench.fault_campaign import campaign


def test_the_fault_campaign_loses_nothing_and_duplicates_nothing(
    postgres_url: str, tmp_path: Path, http: respx.MockRouter
) -> None:
    http.route(host="127.0.0.1").pass_through()  # the emulator, from the children only
    report = campaign(tmp_path, postgres_url, postings=100, faults=0.2, kills=3, pauses=3)
    print(report.table())
    assert report.bad_exits == []
    assert report.live_once == 1.0
    assert report.duplicates == {} and report.webhook_duplicates == 0
    assert report.unconverged == {}
    assert report.stale_content == {}
    assert (report.kills, report.pauses) == (3, 3)
    assert set(report.phases) == {"post", "update", "refresh", "expire"}
