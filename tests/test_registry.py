"""Boards are plug-ins: found through the ``jobpub.boards`` entry points, loaded in one
module, and a broken plug-in is a clear error naming it."""

from __future__ import annotations

import re
from importlib.metadata import EntryPoint
from typing import Any

import pytest

import publisher.registry as registry
from publisher.errors import ConfigError
from tests.factories import ROOT


def test_the_shipped_boards_come_from_entry_points() -> None:
    from importlib.metadata import entry_points

    declared = {p.name: p.value for p in entry_points(group=registry.GROUP)}
    assert declared["google"] == "adapters.google:GoogleAdapter"
    assert list(registry.boards()) == sorted(declared)
    assert all(cls.name == name for name, cls in registry.boards().items())


#: Words of the shipped boards' protocols: none belongs in the core.
PROTOCOL = (
    "URL_UPDATED",
    "URL_DELETED",
    "urlNotifications",
    "simpleJobPostings",
    "batch_create",
    "Restli",
    "jobPostingOperationType",
    "IN_PROGRESS",
    "SUCCEEDED",
    "X-Jobpub-Signature",
    "serviceErrorCode",
    "<source>",
    "<jobs>",
)


def test_only_the_registry_loads_boards_and_no_board_is_named_in_the_core() -> None:
    names = {
        word
        for name in registry.boards()
        for word in [name, *name.split("_")]
        if word not in ("feed",)
    }
    for path in sorted((ROOT / "publisher").rglob("*.py")):
        if "migrations" in path.parts:  # (a migration converts old ledgers' values)
            continue
        text = path.read_text()
        assert not re.search(r"^\s*(from adapters\b|import adapters\b)", text, re.M), path
        if path.name != "registry.py":
            assert "entry_points(" not in text, path
        found = [n for n in names if re.search(rf"\b{n}\b", text, re.I)]
        assert found == [], f"{path} names a board: {found}"
        assert [w for w in PROTOCOL if w in text] == [], path


def _with(monkeypatch: pytest.MonkeyPatch, *points: EntryPoint) -> None:
    monkeypatch.setattr(registry, "_loaded", None)
    monkeypatch.setattr(registry, "entry_points", lambda group: list(points))


def test_a_source_tree_never_installed_reads_its_pyproject(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.metadata import entry_points

    _with(monkeypatch)  # no entry points installed
    installed = {p.name: p.value for p in entry_points(group=registry.GROUP)}
    assert {p.name: p.value for p in registry._declared()} == installed
    assert list(registry.boards()) == sorted(installed)
    assert registry.boards()["webhook"].name == "webhook"


def test_a_third_party_board_is_picked_up(monkeypatch: pytest.MonkeyPatch) -> None:
    _with(
        monkeypatch,
        EntryPoint("webhook", "adapters.webhook:WebhookAdapter", registry.GROUP),
        EntryPoint("fakeboard", "tests.fakeboard:FakeBoardAdapter", registry.GROUP),
    )
    assert list(registry.boards()) == ["fakeboard", "webhook"]


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("no_such_module:Board", "cannot be loaded: ModuleNotFoundError"),
        ("adapters.webhook:WebhookSettings", "is not a board adapter named 'fakeboard'"),
        ("adapters.webhook:WebhookAdapter", "is not a board adapter named 'fakeboard'"),
    ],
)
def test_a_broken_plug_in_names_itself(
    monkeypatch: pytest.MonkeyPatch, value: str, why: str
) -> None:
    _with(
        monkeypatch,
        EntryPoint("fakeboard", value, registry.GROUP),
        EntryPoint("webhook", "adapters.webhook:WebhookAdapter", registry.GROUP),
    )
    found = registry.boards()  # names only: a board's module loads when it is asked for
    assert list(found) == ["fakeboard", "webhook"] and "fakeboard" in found
    assert found["webhook"].name == "webhook"
    for use in (lambda: found["fakeboard"], lambda: dict(found)):
        with pytest.raises(ConfigError, match=f"board plug-in fakeboard \\({value}\\) {why}"):
            use()


def test_adapters_are_built_in_one_place_with_one_cache() -> None:
    from publisher.config import load_config

    config = load_config(ROOT / "config/jobpub.toml")
    built = registry.Adapters(config)
    google = built.get("google")
    assert built.get("google") is google and built.get("google", {}) is google
    other = built.get("google", {"direct_apply": True})
    assert other is not google and built.get("google", {"direct_apply": True}) is other
    assert (google.settings.direct_apply, other.settings.direct_apply) == (False, True)
    with pytest.raises(ConfigError, match="unknown board 'linkedn'"):
        built.get("linkedn")


def test_the_ledgers_words_are_enums_whose_values_are_the_spec_words() -> None:
    from publisher.states import ActionKind, EventOutcome, ListingState

    assert [s.value for s in ListingState] == ["scheduled", "pending", "live", "failed", "expired"]
    assert [a.value for a in ActionKind] == ["post", "update", "refresh", "expire", "reconcile"]
    assert [o.value for o in EventOutcome] == ["ok", "retry", "failed", "stale"]
    assert f"{ListingState.LIVE}" == "live" and ListingState.LIVE == "live"


def test_every_board_is_a_board_adapter_made_with_the_engines_context() -> None:
    from datetime import timedelta

    from publisher.adapter import BoardAdapter
    from publisher.config import Site

    site = Site(name="Northwind")
    for name, cls in registry.boards().items():
        assert issubclass(cls, BoardAdapter) and cls.name == name
    made = registry.boards()["webhook"].make(
        {"url": "https://hooks.example.com/jobs", "secret_env": "HOOK"},
        site=site,
        default_duration=timedelta(days=45),
    )
    assert (made.site, made.default_duration) == (site, timedelta(days=45))
    bare = registry.boards()["webhook"].make({"url": "https://hooks.example.com/jobs"})
    assert (bare.site, bare.default_duration) == (None, timedelta(days=30))  # class defaults


def test_threads_asking_for_a_board_first_at_once_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The web app's request threads may ask for a board not loaded yet at the same time."""
    import threading
    import time

    _with(monkeypatch, EntryPoint("webhook", "adapters.webhook:WebhookAdapter", registry.GROUP))
    load = registry._load

    def slow(point: EntryPoint) -> registry.Board:
        time.sleep(0.05)  # every thread is between asking and storing at once
        return load(point)

    monkeypatch.setattr(registry, "_load", slow)
    found = registry.boards()
    got: list[Any] = []
    threads = [threading.Thread(target=lambda: got.append(found["webhook"])) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got) == 4 and {cls.__name__ for cls in got} == {"WebhookAdapter"}
    assert list(found) == ["webhook"]
