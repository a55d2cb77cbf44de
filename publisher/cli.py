"""The `jobpub` command line: parse, build, execute; typed errors map to exit codes.

Exit codes: 0 success, 1 invalid postings or failed board actions, 2 usage or config errors,
130 interrupted.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from publisher.cli_support import State, handle_errors, pass_state, pipe_closed
from publisher.config import Config
from publisher.errors import UsageError

__all__ = ["main"]

#: The commands of ``publisher.engine_cli``: loaded only when one of them runs (or help lists
#: them), so ``validate`` in a pre-commit hook does not import the engine.
ENGINE_COMMANDS = (
    "archive",
    "expire",
    "history",
    "migrate-ledger",
    "plan",
    "queue",
    "reopen",
    "run",
    "status",
    "sync",
    "verify",
)


class _Group(click.Group):
    """``--config FILE`` is taken before or after the command (``jobpub status --config F``);
    the engine's commands are imported on first use."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in ENGINE_COMMANDS:
            self._add_engine_commands()
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._add_engine_commands()
        return super().list_commands(ctx)

    def _add_engine_commands(self) -> None:
        from publisher.engine_cli import COMMANDS

        for command in COMMANDS:
            self.add_command(command)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        moved, rest, i = [], [], 0
        while i < len(args):
            arg = args[i]
            if arg == "--config" and i + 1 < len(args):
                moved += args[i : i + 2]
                i += 2
                continue
            if arg.startswith("--config="):
                moved.append(arg)
            else:
                rest.append(arg)
            i += 1
        return super().parse_args(ctx, moved + rest)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    metavar="FILE",
    envvar="JOBPUB_CONFIG",
    help="config file (default: config/jobpub.toml; env JOBPUB_CONFIG)",
)
@click.version_option(package_name="jobpub")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """Publish job postings to many job boards from one canonical posting file."""
    ctx.obj = State(config_path)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="output format",
)
@click.option("--json", "as_json", is_flag=True, help="same as --format json")
@click.option("--strict", is_flag=True, help="fail (exit 1) on warnings too")
@pass_state
@handle_errors
def validate(state: State, paths: tuple[Path, ...], fmt: str, as_json: bool, strict: bool) -> None:
    """Validate posting files (default: the postings folder)."""
    fmt = "json" if as_json else fmt
    from publisher.report import render
    from publisher.rules import RuleContext
    from publisher.validate import validate_paths

    config = state.config
    targets = list(paths) or [Path(config.postings_dir)]
    if not paths and not targets[0].exists():
        raise UsageError(f"no PATH given and {targets[0]}/ does not exist")
    ctx = RuleContext.of(config)
    report = validate_paths(targets, config, ctx)
    click.echo(render(report, fmt))
    global _NOTHING_TO_CLEAN
    _NOTHING_TO_CLEAN = True
    if report.errors or (strict and report.warnings):
        sys.exit(1)


@cli.command()
@handle_errors
def schema() -> None:
    """Print the JSON Schema (draft 2020-12) of the posting format."""
    from publisher.jsonschema import posting_json_schema

    click.echo(json.dumps(posting_json_schema(), indent=2))


@cli.command()
@click.argument("folder", required=False, default=".", type=click.Path(path_type=Path))
@handle_errors
def init(folder: Path) -> None:
    """Start a project in FOLDER (default: here): config, an example posting, .gitignore."""
    from publisher.scaffold import init_project

    for path in init_project(folder):
        click.echo(f"wrote {path}")
    click.echo(f"next: edit {folder / 'config/jobpub.toml'}, then jobpub validate and jobpub sync")


@cli.command()
@click.argument("posting_id", metavar="ID")
@click.option(
    "--from",
    "source",
    metavar="EXISTING",
    help="copy this posting (its file, or its last version in the ledger)",
)
@pass_state
@handle_errors
def new(state: State, posting_id: str, source: str | None) -> None:
    """Start postings/ID.yaml: a skeleton to fill in, or a copy of another posting with its
    dates cleared (it closes default_duration_days from today; edit expires_at)."""
    from publisher.scaffold import new_posting

    config = state.config
    postings = Path(config.postings_dir)
    recorded = None
    if source and not (postings / f"{source}.yaml").exists():
        recorded = _recorded(state, source)
    path = new_posting(postings, posting_id, source, recorded, config.default_duration_days)
    click.echo(f"wrote {path}: edit it, then jobpub validate {path}")


def _recorded(state: State, posting_id: str) -> dict[str, Any] | None:
    """A posting's last valid content from the ledger (its file is gone), if any."""
    with _ledger_if_any(state) as ledger:
        spec = ledger.specs([posting_id]).get(posting_id) if ledger else None
    return None if spec is None else spec.model_dump(mode="json", exclude_unset=True)


@contextmanager
def _ledger_if_any(state: State) -> Iterator[Any]:
    """The configured ledger for reading, or None before its first sync (never made)."""
    from publisher.config import ledger_url
    from publisher.database import connect, missing_sqlite
    from publisher.ledger import Ledger

    url = ledger_url(state.config)
    if missing_sqlite(url):
        yield None
        return
    engine = connect(url, create=False)
    try:
        yield Ledger(engine)
    finally:
        engine.dispose()


#: Set by a command that leaves nothing to clean up (``validate``: its report is written):
#: the process then ends at once, as mypy's does, skipping the interpreter's teardown of
#: every module and object (~60-90 ms after a validate of 2,000 files). Only from the
#: console script: a test's CliRunner calls ``cli`` and is never ended.
_NOTHING_TO_CLEAN = False


def main() -> None:
    """Console-script entry point."""
    try:
        cli(prog_name="jobpub")
    except BrokenPipeError:
        pipe_closed()
    except SystemExit as done:
        if not _NOTHING_TO_CLEAN:
            raise
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BrokenPipeError:
            pipe_closed()
        os._exit(done.code if isinstance(done.code, int) else 0 if done.code is None else 1)


def _adapter(config: Config, name: str, overrides: dict[str, Any] | None = None) -> Any:
    from publisher.registry import Adapters

    return Adapters(config).get(name, overrides)  # an unknown board is a ConfigError (2)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@pass_state
@handle_errors
def rules(state: State, as_json: bool) -> None:
    """List every rule (with its setting in [rules]) and every law the compliance rules know:
    where it applies, from when, for whom, what it asks, and its sources."""
    from publisher.compliance import jurisdictions
    from publisher.problems import RULES

    settings = state.config.rules
    laws = [
        {
            "code": j.code,
            "name": j.name,
            "law": j.law,
            "effective": j.effective.isoformat() if j.effective else None,
            "enforced": j.enforced.isoformat() if j.enforced else None,
            "min_employees": j.min_employees,
            "remote": j.remote,
            "requires": sorted(j.requires),
            "advisory": j.advisory,
            "warn_only": j.warn_only,
            "sources": list(j.sources),
        }
        for j in jurisdictions()
    ]
    if as_json:
        click.echo(
            json.dumps(
                {
                    "rules": [
                        {"rule": r, "checks": d, "setting": settings.get(r)}
                        for r, d in RULES.items()
                    ],
                    "laws": laws,
                },
                indent=2,
            )
        )
        return
    width = max(map(len, RULES)) + 2
    for rule, what in RULES.items():
        setting = f"  [{settings[rule]}]" if rule in settings else ""
        click.echo(f"{rule.ljust(width)}{what}{setting}")
    click.echo("\nLaws (pay-transparency, benefits-required, disclosure-required):")
    for j in jurisdictions():
        when = j.effective.isoformat() if j.effective else "-"
        if j.enforced:
            when += f", enforced {j.enforced.isoformat()}"
        who = f"{j.min_employees}+ employees" if j.min_employees else "all employers"
        asks = (
            "advisory: nothing in the posting"
            if j.advisory
            else ", ".join(sorted(j.requires)) + (" (warning only)" if j.warn_only else "")
        )
        click.echo(f"  {j.code:<10} {j.name} — {j.law}")
        click.echo(f"  {'':<10} from {when}; {who}; {asks}; sources: {'; '.join(j.sources)}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@pass_state
@handle_errors
def boards(state: State, as_json: bool) -> None:
    """List every board: kind, operations, configuration and credentials."""
    from publisher.registry import boards as _boards

    rows = []
    for name in sorted(_boards()):
        adapter = _adapter(state.config, name)
        missing = adapter.missing_credentials()
        # Configured: it has a table in the config and every setting it needs.
        rows.append(
            {
                "board": name,
                "kind": adapter.kind,
                "operations": adapter.operations(),
                "configured": name in state.config.boards and not missing,
                "credentials": "missing: " + ", ".join(missing) if missing else "ok",
            }
        )
    if as_json:
        click.echo(json.dumps({"boards": rows}, indent=2))
        return
    table = [("BOARD", "KIND", "CONFIGURED", "CREDENTIALS", "OPERATIONS")] + [
        (
            r["board"],
            r["kind"],
            "yes" if r["configured"] else "no",
            r["credentials"],
            ", ".join(r["operations"]),
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) + 2 for i in range(4)]
    for row in table:
        click.echo(
            "".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + row[4]
        )


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--board", "board", required=True, help="the board to preview for")
@pass_state
@handle_errors
def preview(state: State, file: Path, board: str) -> None:
    """Print exactly what would be sent to or written for BOARD."""
    from publisher.board_rules import check_board
    from publisher.report import render
    from publisher.rules import RuleContext
    from publisher.validate import Report, load_posting, place

    config = state.config
    ctx = RuleContext.of(config)
    result = load_posting(file, config, ctx)
    adapter = None
    if result.posting is not None:
        adapter = _adapter(config, board, result.posting.board_overrides(board))
        result.problems.extend(check_board(result.posting, adapter))
    findings = [f for f in place(result) if f.severity == "error"]
    if findings or adapter is None or result.posting is None:
        click.echo(render(Report(1, findings), "text"), err=True)
        sys.exit(1)
    if adapter.kind == "api":
        click.echo(adapter.preview(result.posting))
        return
    item = _recorded_item(state, result.posting, board)
    click.echo(adapter.preview(result.posting, item), nl=False)


def _recorded_item(state: State, posting: Any, board: str) -> Any:
    """The posting with the times the ledger recorded for it on ``board`` (live there), so
    a preview is what sync wrote; None without a ledger or a live listing."""
    from publisher.adapter import FeedItem
    from publisher.planner import ACTIVE

    with _ledger_if_any(state) as ledger:
        rows = (
            [r for r in ledger.listings(posting.id) if r.board == board and r.state in ACTIVE]
            if ledger
            else []
        )
    if not rows:
        return None
    row = rows[0]
    return FeedItem(posting, row.posted_at, row.expires_at, row.refreshed_at or row.changed_at)


def _users_path(state: State) -> Path | None:
    found = os.environ.get("JOBPUB_USERS_FILE") or state.config.web.users_file
    return Path(found).expanduser() if found else None


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False))
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False))
@pass_state
@handle_errors
def serve(state: State, host: str, port: int, tls_cert: str | None, tls_key: str | None) -> None:
    """The recruiters' web app (needs the web extra: pip install 'jobpub[web]')."""
    try:
        import uvicorn

        from publisher.web.app import create_app
        from publisher.web.auth import Users
    except ImportError:
        raise UsageError("jobpub serve needs the web extra: pip install 'jobpub[web]'") from None
    users = Users(_users_path(state), os.environ.get("JOBPUB_WEB_TOKEN"))
    if users.empty:
        raise UsageError(
            "no users: add one with jobpub users add NAME --role recruiter, or set JOBPUB_WEB_TOKEN"
        )
    if host not in ("127.0.0.1", "localhost", "::1") and not tls_cert:
        click.echo(
            f"warning: serving on {host} without TLS: terminate TLS in front (a "
            "reverse proxy) or give --tls-cert and --tls-key",
            err=True,
        )
    if state.config.web.git_commit and not _in_git(Path(state.config.postings_dir)):
        click.echo(
            f"warning: [web] git_commit is on but {state.config.postings_dir} is not "
            "in a git repository: saves will not be committed",
            err=True,
        )
    app = create_app(
        state.config, users, secret=os.environ.get("JOBPUB_WEB_SECRET"), https_only=bool(tls_cert)
    )
    # The app reads X-Forwarded-For itself, from [web] trusted_proxies only: uvicorn must
    # not rewrite the client address from it (by default it trusts 127.0.0.1's header).
    uvicorn.run(
        app,
        host=host,
        port=port,
        ssl_certfile=tls_cert,
        ssl_keyfile=tls_key,
        proxy_headers=False,
        forwarded_allow_ips="",
    )


def _in_git(folder: Path) -> bool:
    import subprocess

    try:
        return (
            subprocess.run(
                ["git", "-C", str(folder), "rev-parse"],
                capture_output=True,
                check=False,
                timeout=10,
            ).returncode
            == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


@cli.group()
def users() -> None:
    """The web app's users (a file outside the repository)."""


@users.command("add")
@click.argument("name")
@click.option(
    "--role", type=click.Choice(["recruiter", "approver"]), default="recruiter", show_default=True
)
@click.option("--email", default="", help="the author e-mail of the user's git commits")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@pass_state
@handle_errors
def users_add(state: State, name: str, role: str, email: str, password: str) -> None:
    """Add NAME (or change its role and password: its earlier sessions end)."""
    from publisher.web.auth import add_user

    path = _users_file(state)
    add_user(path, name, role, password, email)
    click.echo(f"{name} ({role}) is in {path}")


def _users_file(state: State) -> Path:
    path = _users_path(state)
    if path is None:
        raise UsageError("set [web] users_file in the config or JOBPUB_USERS_FILE")
    return path


@users.command("remove")
@click.argument("name")
@pass_state
@handle_errors
def users_remove(state: State, name: str) -> None:
    """Take NAME out of the users file; its sessions end at once."""
    from publisher.web.auth import remove_user

    path = _users_file(state)
    remove_user(path, name)
    click.echo(f"{name} is no longer in {path}; its sessions have ended")


@users.command("passwd")
@click.argument("name")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@pass_state
@handle_errors
def users_passwd(state: State, name: str, password: str) -> None:
    """A new password for NAME; its earlier sessions end."""
    from publisher.web.auth import set_password

    path = _users_file(state)
    set_password(path, name, password)
    click.echo(f"{name} has a new password; its earlier sessions have ended")


@users.command("list")
@pass_state
@handle_errors
def users_list(state: State) -> None:
    """Who can use the web app, and with which role."""
    from publisher.web.auth import Users

    for name, role in Users(_users_file(state)).names():
        click.echo(f"{name}  {role}")
