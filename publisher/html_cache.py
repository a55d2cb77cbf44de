"""Rendered descriptions kept between runs, by content hash, in one SQLite file of the cache
folder (``cache_dir``): a sync renders Markdown only for what is new. A cache, never a
reason to fail: any error reading or writing it is ignored (the HTML is rendered instead).
Entries unused for 60 days are dropped, at most once a day."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path

__all__ = ["HtmlCache"]

_KEEP = 60 * 86400
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS html (key TEXT PRIMARY KEY, html TEXT NOT NULL, "
    "used INTEGER NOT NULL)"
)


class HtmlCache:
    """``get`` by key; ``put`` is buffered and written by ``flush`` in one transaction."""

    def __init__(self, folder: Path) -> None:
        self._pending: dict[str, str] = {}
        self._used: list[str] = []
        self._db: sqlite3.Connection | None = None
        with contextlib.suppress(OSError, sqlite3.Error):
            folder.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(
                folder / "html.sqlite3", timeout=5, isolation_level=None, check_same_thread=False
            )
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)
            self._db = db
            self._prune(folder / "pruned")

    def get(self, key: str) -> str | None:
        if self._db is None:
            return None
        try:
            row = self._db.execute("SELECT html FROM html WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            return None
        if row is None:
            return None
        self._used.append(key)
        return str(row[0])

    def put(self, key: str, html: str) -> None:
        if self._db is not None:
            self._pending[key] = html
            if len(self._pending) >= 5000:
                self.flush()

    def flush(self) -> None:
        """Write what was rendered, and mark what was read as used (today)."""
        if self._db is None or not (self._pending or self._used):
            return
        today = int(time.time()) // 86400
        with contextlib.suppress(sqlite3.Error):
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR REPLACE INTO html VALUES (?, ?, ?)",
                [(k, v, today) for k, v in self._pending.items()],
            )
            self._db.executemany(
                "UPDATE html SET used = ? WHERE key = ? AND used < ?",
                [(today, k, today) for k in self._used],
            )
            self._db.execute("COMMIT")
        with contextlib.suppress(sqlite3.Error):
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
        self._pending.clear()
        self._used.clear()

    def close(self) -> None:
        self.flush()
        if self._db is not None:
            self._db.close()
            self._db = None

    def _prune(self, stamp: Path) -> None:
        if stamp.exists() and time.time() - stamp.stat().st_mtime < 86400:
            return
        stamp.touch()
        assert self._db is not None
        self._db.execute("DELETE FROM html WHERE used < ?", ((int(time.time()) - _KEEP) // 86400,))
