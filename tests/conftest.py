"""Test hygiene: no test reaches the network, and every test runs in a clean folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import respx


@pytest.fixture(autouse=True)
def http() -> Iterator[respx.MockRouter]:
    """Every HTTP request must match a mocked route; an unmocked one fails the test."""
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        yield router


@pytest.fixture(autouse=True)
def _isolated_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No config file or CI variables leak in from the developer's shell or checkout."""
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
    monkeypatch.delenv("JOBPUB_CONFIG", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


@pytest.fixture
def fake_today(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake clock for tests that run the commands or the web app whole: now is
    tests.factories.NOW (2026-11-26 12:00 UTC), before the example posting publishes."""
    from tests.factories import NOW

    monkeypatch.setattr("publisher.clock.now", lambda: NOW)
