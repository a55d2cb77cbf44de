"""With ``[web] git_commit``, a posting file the web app saved is committed in its git
repository with the recruiter as author (only that file; nothing else staged is touched)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

__all__ = ["commit"]


def commit(path: Path, author: str, message: str) -> str | None:
    """Commit ``path`` alone as ``author`` ("Name <e-mail>"); None when done (or when there
    was nothing to commit), else why not, in words. The committer is the server's git
    identity, or "jobpub serve" when it has none."""
    folder = str(path.parent)

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", "-C", folder, *args],
            capture_output=True,
            text=True,
            env=_env(folder),
            check=False,
            timeout=60,
        )

    try:
        if git("rev-parse", "--show-toplevel").returncode != 0:
            return f"{folder} is not in a git repository: saved without a commit"
        if not git("status", "--porcelain", "--", path.name).stdout.strip():
            return None
        added = git("add", "--", path.name)
        done = (
            added
            if added.returncode
            else git("commit", "--quiet", f"--author={author}", "-m", message, "--", path.name)
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"saved, but git could not run: {exc}"
    if done.returncode:
        return f"saved, but git refused the commit: {done.stderr.strip()[:300]}"
    return None


def _env(folder: str) -> dict[str, str]:
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0")
    configured = subprocess.run(
        ["git", "-C", folder, "config", "user.email"],
        capture_output=True,
        text=True,
        check=False,
        timeout=10,
    )
    if configured.returncode != 0 and "GIT_COMMITTER_EMAIL" not in env:
        env.update(GIT_COMMITTER_NAME="jobpub serve", GIT_COMMITTER_EMAIL="jobpub@localhost")
    return env
