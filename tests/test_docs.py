"""The documentation cannot go stale: the reference pages are written from the code (and
cover every command, option, config key, rule id and board); every ``jobpub`` command the
README's tour shows runs, in order, in a scratch project; the guides name only commands that
exist; no page names an internal work item."""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
import warnings
from pathlib import Path
from types import ModuleType

import click
from click.testing import CliRunner

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


def _shell_blocks(text: str) -> list[str]:
    """The fenced blocks of a Markdown text marked sh, bash or console (or unmarked)."""
    blocks, current, language = [], [], None
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            if language is None:
                language = line.strip()[3:].strip()
                current = []
            else:
                if language in ("", "sh", "bash", "console"):
                    blocks.append("\n".join(current))
                language = None
        elif language is not None:
            current.append(line)
    return blocks


def test_the_guides_name_only_commands_that_exist() -> None:
    ref = _reference()
    known = {name.split()[1] for name, _ in ref.commands() if " " in name}
    for path, text in _pages().items():
        for block in _shell_blocks(text):
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


def _shown_commands() -> list[tuple[Path, str]]:
    """Every concrete ``jobpub`` command line in a shell block of the README and the docs
    (a synopsis with ``[...]`` is not one; what follows a redirection or a pipe is the
    shell's)."""
    found = []
    for path, text in _pages().items():
        for block in _shell_blocks(text):
            for line in block.splitlines():
                line = line.split(" #", 1)[0].strip().removeprefix("$ ")
                for part in re.split(r"&&|;", line):
                    part = re.split(r"[>|]", part, maxsplit=1)[0].strip()
                    words = part.split()
                    while words and "=" in words[0]:  # an environment variable first
                        words = words[1:]
                    if words[:1] == ["jobpub"] and "[" not in part:
                        found.append((path, " ".join(words)))
    return found


def _parse_error(line: str) -> str | None:
    """Why jobpub would refuse ``line`` as a command line (None: it parses)."""
    from publisher.cli import cli

    args = shlex.split(line)[1:]
    answers = "a-password-9\n" * 6  # (a command that asks for one gets it)
    with CliRunner().isolation(input=answers), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # (click's protected_args)
        try:
            ctx = cli.make_context("jobpub", list(args))
            group: click.Command = cli
            while isinstance(group, click.Group) and [*ctx.protected_args, *ctx.args]:
                name, command, rest = group.resolve_command(ctx, [*ctx.protected_args, *ctx.args])
                if command is None:
                    return "no such command"
                ctx = command.make_context(name or "", rest, parent=ctx)
                group = command
        except click.UsageError as exc:
            return exc.format_message()
    return None


def test_every_command_shown_parses() -> None:
    """Each command line the documentation shows names a real command with real options
    (parsed as jobpub parses it, without running it: some run until stopped)."""
    shown = _shown_commands()
    assert len(shown) >= 15 and ("README.md", "jobpub new data-analyst") in {
        (p.name, line) for p, line in shown
    }
    assert [(p, line, why) for p, line in shown if (why := _parse_error(line))] == []
    assert "No such option" in str(_parse_error("jobpub sync --no-such-option"))
    assert _parse_error("jobpub archive export --since 2026-01-01") is None


#: Shown commands a test does not run: they run until stopped, or need a database server.
NOT_RUN = {
    "serve": "runs until stopped",
    "run": "runs until stopped",
    "migrate-ledger": "copies into a PostgreSQL server",
}


def test_the_commands_the_guides_show_run_in_a_scratch_project(tmp_path: Path) -> None:
    """In the order the guides show them, in a project ``jobpub init`` made (the README's
    tour is run by its own test above, with the exit codes it states)."""
    env = {**os.environ, "JOBPUB_USERS_FILE": str(tmp_path / "users.toml")}
    jobpub = [sys.executable, "-c", "from publisher.cli import main; main()"]
    project = tmp_path / "project"  # (until a guide's own init makes another)
    subprocess.run([*jobpub, "init", str(project)], check=True, capture_output=True, env=env)
    ran = []
    for n, (path, line) in enumerate(_shown_commands()):
        words = shlex.split(line)[1:]
        if path.name == "README.md" or words[0] in NOT_RUN:
            continue
        here = tmp_path
        if words[0] == "init":  # a fresh folder each time (init never overwrites)
            words = ["init", f"project-{n}"]
            project = tmp_path / f"project-{n}"
        else:
            here = project
        done = subprocess.run(
            [*jobpub, *words],
            cwd=here,
            env=env,
            input="a-password-9\n" * 4,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert (done.returncode, "Traceback" in done.stderr) == (0, False), (
            path,
            line,
            done.stdout,
            done.stderr,
        )
        ran.append(words[0])
    assert {"init", "new", "users"} <= set(ran)
