"""The reference pages, written from the code when the site is built (an MkDocs hook): every
command and option from the click commands, every config key from the settings models, every
rule id and law from the rules, every board from the registry's declarations. A page says
where its part goes with a marker line, ``<!-- reference: commands -->``."""

from __future__ import annotations

import inspect
import re
from typing import Any

import click
from pydantic import BaseModel

MARKER = re.compile(r"^<!-- reference: (\w+) -->$", re.MULTILINE)


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def _walk(command: click.Command, path: list[str]) -> list[tuple[list[str], click.Command]]:
    found = [(path, command)]
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                found += _walk(sub, [*path, name])
    return found


def commands() -> list[tuple[str, click.Command]]:
    """Every ``jobpub`` command and subcommand, by its full name."""
    from publisher.cli import cli

    return [(" ".join(["jobpub", *path]), cmd) for path, cmd in _walk(cli, [])]


def commands_md() -> str:
    out = []
    for name, command in commands():
        out.append(f"## `{name}`\n")
        if command.help:
            out.append(inspect.cleandoc(click.unstyle(command.help)) + "\n")
        ctx = click.Context(command, info_name=name)
        out.append(f"```\n{command.get_usage(ctx).replace('Usage: ', '')}\n```\n")
        rows = []
        for param in command.params:
            if isinstance(param, click.Option):
                flags = ", ".join(f"`{o}`" for o in [*param.opts, *param.secondary_opts])
                shown = isinstance(param.default, str | int | float) and not param.is_flag
                default = f" (default: {param.default})" if shown and param.default != "" else ""
                rows.append(f"| {flags} | {_cell((param.help or '') + default)} |")
            elif isinstance(param, click.Argument):
                rows.append(f"| `{param.human_readable_name}` | argument |")
        if rows:
            out.append("| option | what |\n|---|---|\n" + "\n".join(rows) + "\n")
    return "\n".join(out)


def config_keys(model: type[BaseModel] | None = None, prefix: str = "") -> list[tuple[str, Any]]:
    """Every key of the config file (``table.key``), with its field."""
    from publisher.config import Config

    model = model or Config
    keys = []
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        key = f"{prefix}{name}"
        nested = field.annotation
        if isinstance(nested, type) and issubclass(nested, BaseModel) and nested is not model:
            keys += config_keys(nested, f"{key}.")
        else:
            keys.append((key, field))
    return keys


def config_md() -> str:
    from publisher.config import Limits

    def rows(keys: list[tuple[str, Any]]) -> str:
        lines = []
        for key, field in keys:
            default = field.get_default(call_default_factory=True)
            shown = "" if default is None else f"`{default!r}`"
            lines.append(f"| `{key}` | {shown} | {_cell(field.description or '')} |")
        return "| key | default | what |\n|---|---|---|\n" + "\n".join(lines) + "\n"

    out = ["## The config file (`config/jobpub.toml`)\n", rows(config_keys())]
    out += ["## `[limits.BOARD]`\n", rows(config_keys(Limits, "limits.BOARD."))]
    from publisher.registry import boards

    for board, cls in boards().items():
        model = cls.settings_model
        out += [f"## `[boards.{board}]`\n", rows(config_keys(model, f"boards.{board}."))]
    return "\n".join(out)


def board_settings() -> list[tuple[str, str, Any]]:
    from publisher.registry import boards

    return [
        (board, key, field)
        for board, cls in boards().items()
        for key, field in config_keys(cls.settings_model)
    ]


def rules_md() -> str:
    from publisher.compliance import jurisdictions
    from publisher.problems import RULES

    out = ["## Rule ids\n", "| rule | what it checks |\n|---|---|"]
    out += [f"| `{rule}` | {_cell(checks)} |" for rule, checks in RULES.items()]
    out += [
        "\n## Laws the compliance rules know\n",
        "| where | law | from | requires | sources |\n|---|---|---|---|---|",
    ]
    for j in jurisdictions():
        effective = j.effective.isoformat() if j.effective else ""
        out.append(
            f"| {j.code} {_cell(j.name)} | {_cell(j.law)} | {effective} | "
            f"{', '.join(sorted(j.requires))} | {_cell('; '.join(j.sources))} |"
        )
    return "\n".join(out) + "\n"


def boards_md() -> str:
    from publisher.adapter import ApiAdapter
    from publisher.registry import boards

    out = []
    for name, cls in boards().items():
        out.append(f"## `{name}`\n")
        doc = (cls.__doc__ or "").strip().split("\n\n")[0]
        if doc:
            out.append(" ".join(doc.split()) + "\n")
        facts = [f"kind: {cls.kind}"]
        if issubclass(cls, ApiAdapter):
            facts += [
                f"reconcile: {cls.reconcile.value}",
                f"batch size: {cls.batch_size}",
                "tasks: yes" if cls.tasks else "tasks: no",
            ]
        out.append(" · ".join(facts) + "\n")
        out.append(f"Settings: `[boards.{name}]` (see [Configuration keys](config.md)).\n")
    return "\n".join(out)


PARTS = {"commands": commands_md, "config": config_md, "rules": rules_md, "boards": boards_md}


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    """MkDocs hook: put each generated part where its marker is."""
    return MARKER.sub(lambda m: PARTS[m.group(1)](), markdown)
