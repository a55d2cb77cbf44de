"""``jobpub init`` and ``jobpub new``: start a project, start a posting.

``init DIR`` writes ``config/jobpub.toml``, an example posting and ``.gitignore`` entries,
never over an existing file. ``new ID`` writes ``postings/ID.yaml`` from a skeleton whose
blanks validation reports, or ``--from`` another posting ("duplicate this posting"): its
file with the id changed and its dates removed, or, for a posting whose file is gone (an
expired one), its last content from the ledger.
"""

from __future__ import annotations

import re
from datetime import date
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from publisher.errors import UsageError
from publisher.schema import ID_RE

__all__ = ["init_project", "new_posting"]

IGNORED = (".jobpub/", "public/")
_DATES = re.compile(r"^(publish_at|expires_at):.*\n(?:[ \t]+.*\n)*", re.MULTILINE)


def _closing(days: int) -> str:
    """A close date ``days`` from today: laws such as Colorado's want it in the posting."""
    from datetime import timedelta

    from publisher import clock

    return (clock.now() + timedelta(days=days)).date().isoformat()


def template(name: str) -> str:
    return files("publisher.templates").joinpath(name).read_text(encoding="utf-8")


def _write_new(path: Path, text: str) -> None:
    if path.exists():
        raise UsageError(f"{path} exists already; nothing was written")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def init_project(folder: Path) -> list[str]:
    """Lay out a project in ``folder``; returns what was written."""
    config = folder / "config" / "jobpub.toml"
    example = folder / "postings" / "example-posting.yaml"
    for path in (config, example):
        if path.exists():
            raise UsageError(f"{path} exists already: {folder} is a jobpub project")
    _write_new(config, template("jobpub.toml"))
    _write_new(
        example,
        template("example.yaml")
        .replace("{id}", "example-posting")
        .replace("{expires}", _closing(60)),
    )
    ignore = folder / ".gitignore"
    have = ignore.read_text(encoding="utf-8").splitlines() if ignore.exists() else []
    missing = [entry for entry in IGNORED if entry not in have]
    if missing:
        with ignore.open("a", encoding="utf-8") as handle:
            if have and have[-1].strip():
                handle.write("\n")
            handle.write("# jobpub: the SQLite ledger and the generated pages and feeds\n")
            handle.write("".join(f"{entry}\n" for entry in missing))
    written = [str(config), str(example)]
    return written + ([str(ignore)] if missing else [])


def new_posting(
    postings: Path,
    posting_id: str,
    source: str | None = None,
    recorded: dict[str, Any] | None = None,
    duration_days: int = 30,
) -> Path:
    """Write ``postings/<posting_id>.yaml``: the skeleton, the file of posting ``source``,
    or ``recorded`` (``source``'s last content in the ledger, its file being gone)."""
    if not ID_RE.fullmatch(posting_id):
        raise UsageError(
            f"'{posting_id}' is not a posting id: lowercase letters, digits and "
            "hyphens, starting with a letter or digit (e.g. data-analyst-2027)"
        )
    target = postings / f"{posting_id}.yaml"
    if source is None:
        text = template("new.yaml").replace("{id}", posting_id)
    elif (postings / f"{source}.yaml").exists():
        text = (postings / f"{source}.yaml").read_text(encoding="utf-8")
        text = re.sub(r"^id:.*$", f"id: {posting_id}", text, count=1, flags=re.MULTILINE)
        text = _DATES.sub("", text).rstrip("\n") + (
            f"\nexpires_at: {_closing(duration_days)}  # the copy's own close date\n"
        )
    elif recorded is not None:
        data = {k: v for k, v in recorded.items() if k not in ("publish_at", "expires_at")}
        data["expires_at"] = date.fromisoformat(_closing(duration_days))
        text = f"# Copied from {source} (its last recorded version).\n" + yaml.safe_dump(
            {**data, "id": posting_id}, sort_keys=False, allow_unicode=True
        )
    else:
        raise UsageError(
            f"--from {source}: no file {postings / source}.yaml and no such posting in the ledger"
        )
    _write_new(target, text)
    return target
