"""The documentation cannot go stale: the reference pages are written from the code (and
cover every command, option, config key, rule id and board); every ``jobpub`` command the
README's tour shows runs, in order, in a scratch project; the guides name only commands that
exist; no page names an internal work item."""

from __future__ import annotations

import importlib.util
import re
import shlex
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import click

from tests.factories import ROOT

DOCS = ROOT / "docs"


def _reference() -> ModuleType:
    spec = importlib.util.spec_from_file_location("reference", DOCS / "hooks" / "reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_reference_has_every_command_option_key_rule_and_board() -> None:
    from publisher.problems import RULES
    from publisher.registry import boards

    ref = _reference()
    commands, config, rules, boards_page = (
        ref.commands_md(),
        ref.config_md(),
        ref.rules_md(),
        ref.boards_md(),
    )
    names = [name for name, _ in ref.commands()]
    assert {"jobpub sync", "jobpub archive export", "jobpub users add", "jobpub run"} <= set(names)
    for name, command in ref.commands():
        assert f"## `{name}`" in commands
        for param in command.params:
            if isinstance(param, click.Option):
                assert all(f"`{opt}`" in commands for opt in param.opts), (name, param.opts)
    for key, _ in ref.config_keys():
        assert f"`{key}`" in config, key
    assert "`engine.lease_seconds`" in config and "`limits.BOARD.deadline`" in config
    for board, key, _ in ref.board_settings():
        assert f"`boards.{board}.{key}`" in config, (board, key)
    for rule in RULES:
        assert f"`{rule}`" in rules, rule
    for board in boards():
        assert f"## `{board}`" in boards_page, board
    pages = {p.stem: p.read_text() for p in (DOCS / "reference").glob("*.md")}
    assert all(f"<!-- reference: {part} -->" in pages[part] for part in ref.PARTS)


def _pages() -> dict[Path, str]:
    return {p: p.read_text() for p in [ROOT / "README.md", *DOCS.rglob("*.md")]}


def test_the_guides_name_only_commands_that_exist() -> None:
    ref = _reference()
    known = {name.split()[1] for name, _ in ref.commands() if " " in name}
    for path, text in _pages().items():
        for block in re.findall(r"```(?:sh|bash|console)?\n(.*?)```", text, re.S):
            for word in re.findall(r"(?:^|[;&|(]\s*|\$ )jobpub ([a-z][a-z-]*)", block, re.M):
                assert word in known, f"{path}: jobpub {word}"


def test_no_page_names_an_internal_work_item() -> None:
    for path, text in _pages().items():
        assert not re.search(r"\bissue \d+|\(issue|#\d{2,3}\b", text, re.I), path


def _tour() -> list[tuple[str, int]]:
    """The README tour's commands, with the exit code each is said to have (0 unless its
    comment says 'exits N')."""
    text = (ROOT / "README.md").read_text()
    block = text.split("## A ten-minute tour", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    steps = []
    for line in block.splitlines():
        command, _, comment = line.partition("#")
        said = re.search(r"exits (\d+)", comment)
        steps.append((command.strip(), int(said.group(1)) if said else 0))
    return steps


def test_the_readme_tour_runs_as_shown(tmp_path: Path) -> None:
    steps = _tour()
    assert [c for c, _ in steps][:2] == ["jobpub init careers", "cd careers"]
    here = tmp_path
    jobpub = [sys.executable, "-c", "from publisher.cli import main; main()"]
    for command, code in steps:
        words = shlex.split(command)
        if words[0] == "cd":
            here = here / words[1]
            continue
        assert words[0] == "jobpub", command
        done = subprocess.run(
            [*jobpub, *words[1:]],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == code, (command, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
    assert (here / "public" / "index.html").exists()
    assert (here / "postings" / "data-analyst.yaml").exists()


def test_the_readme_is_a_front_door() -> None:
    text = (ROOT / "README.md").read_text()
    assert len(text.encode()) <= 15_000
    first, second = re.findall(r"```sh\n(.*?)\n```", text, re.S)[:2]
    assert "pip install -e . && jobpub sync" in first
    assert "pip install -e '.[test]' && pytest" in second
