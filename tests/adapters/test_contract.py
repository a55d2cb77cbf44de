"""The contract every registered adapter keeps."""

from __future__ import annotations

import json
from typing import Any

import pytest

from publisher.adapter import ApiAdapter, BoardAdapter, BoardRules, FileAdapter
from publisher.errors import ConfigError
from publisher.registry import boards
from tests.adapters.helpers import EXAMPLES, adapter_for, example

BOARDS = sorted(boards().items())


def test_the_registry_has_the_boards_pyproject_declares() -> None:
    from publisher.registry import _declared

    declared = sorted(point.name for point in _declared())
    assert sorted(boards()) == declared and len(declared) >= 13
    assert all(point.value.startswith("adapters.") for point in _declared())


@pytest.mark.parametrize(("key", "cls"), BOARDS)
def test_registry_key_is_the_adapter_name(key: str, cls: type[BoardAdapter[Any]]) -> None:
    assert cls.name == key
    assert cls.kind in ("api", "feed", "page")
    assert isinstance(cls.rules, BoardRules)
    assert issubclass(cls, ApiAdapter if cls.kind == "api" else FileAdapter)


@pytest.mark.parametrize(("key", "cls"), BOARDS)
def test_settings_reject_unknown_keys(key: str, cls: type[BoardAdapter[Any]]) -> None:
    with pytest.raises(ConfigError, match=rf"boards\.{key}\.no_such_setting: unknown setting"):
        cls.make({"no_such_setting": 1})


@pytest.mark.parametrize("posting", EXAMPLES)
@pytest.mark.parametrize("board", sorted(boards()))
def test_every_example_maps_to_a_serializable_payload(board: str, posting: str) -> None:
    payload = adapter_for(board).to_payload(example(posting))
    assert json.loads(json.dumps(payload)) == payload
    assert payload


def test_no_board_name_appears_in_the_core() -> None:
    from tests.factories import ROOT

    core = "\n".join(p.read_text() for p in (ROOT / "publisher").rglob("*.py"))
    for name in boards():
        assert f'"{name}"' not in core and f"'{name}'" not in core, name


#: What each board states itself (its kind comes from its base class, its settings model
#: from the base's generic parameter; what changes the engine's behaviour is stated always).
MEMBERS = {
    "api": (
        "name",
        "rules",
        "refresh_policy",
        "default_base_url",
        "concurrency",
        "rate_per_second",
        "reconcile",
        "batch_size",
        "tasks",
    ),
    "feed": ("name", "rules", "refresh_policy", "dialect"),
    "page": (
        "name",
        "rules",
        "refresh_policy",
        "default_base_url",
        "daily_announcements",
        "quota_zone",
    ),
}


def test_kind_and_settings_model_come_from_the_base_class() -> None:
    from publisher.adapter import ApiAdapter, BoardSettings, FileAdapter

    class ToySettings(BoardSettings):
        shop: str = "north"

    class Toy(ApiAdapter[ToySettings]):
        name = "toy"

        def to_payload(self, posting: Any) -> Any:
            return {}

    class ToyPage(FileAdapter[ToySettings]):
        name = "toy_page"

    assert (Toy.kind, Toy.settings_model) == ("api", ToySettings)
    assert (ToyPage.kind, ToyPage.settings_model) == ("page", ToySettings)
    assert Toy.make({"shop": "south"}).settings.shop == "south"  # type: ignore[attr-defined]
    assert [b for b, cls in boards().items() if "kind" in vars(cls)] == []  # none restates it


@pytest.mark.parametrize("board", sorted(boards()))
def test_each_adapter_states_every_contract_member(board: str) -> None:
    cls = boards()[board]
    missing = [m for m in MEMBERS[cls.kind] if m not in vars(cls)]
    assert missing == [], f"{board} inherits what it should state: {missing}"


def test_boards_import_the_core_only_through_the_sdk() -> None:
    """A board module takes what it uses of jobpub from ``publisher.boards`` (the SDK), so a
    plug-in author has one module to learn and the core may move behind it."""
    import ast

    from tests.factories import ROOT

    elsewhere = []
    for path in sorted((ROOT / "adapters").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("publisher"):
                if node.module != "publisher.boards":
                    elsewhere.append(f"{path.name}:{node.lineno} {node.module}")
            elif isinstance(node, ast.Import):
                elsewhere += [
                    f"{path.name}:{node.lineno} {a.name}"
                    for a in node.names
                    if a.name.startswith("publisher")
                ]
    assert elsewhere == []
