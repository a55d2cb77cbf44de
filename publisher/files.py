"""Writing a board's files: atomically (temp file + rename), and only when they change."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

__all__ = ["write_atomic", "write_files"]


def write_atomic(path: Path, content: bytes, mode: int = 0o644) -> None:
    """Replace ``path`` so that a reader sees the old file or the new one, never half; the
    file ends with ``mode`` whatever mode the old one had."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_files(root: Path, files: Mapping[str, bytes]) -> list[str]:
    """Write each changed file under ``root``; returns the relative paths written."""
    written = []
    for relative, content in sorted(files.items()):
        path = (root / relative).resolve()
        if root.resolve() not in path.parents:
            raise ValueError(f"refusing to write outside {root}: {relative}")
        if path.exists() and path.read_bytes() == content:
            continue
        write_atomic(path, content)
        written.append(relative)
    return written
