"""Opening the ledger database: SQLite (WAL, busy timeout, one writer at a time) by default,
PostgreSQL through a ``postgresql+psycopg://`` URL; schema upgrades through Alembic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from publisher.errors import ConfigError

__all__ = ["connect", "migrate", "missing_sqlite", "reading", "safe_url", "sqlite_path"]

BUSY_TIMEOUT_MS = 15_000
_READ = "jobpub_read_only"


def safe_url(url: str) -> str:
    """The URL as it may be shown: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<unparsable ledger URL>"


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A write takes the write lock at its start: two syncs never interleave a claim. A
        # read (see reading()) is deferred: under WAL it reads its snapshot beside a writer.
        read = connection.get_execution_options().get(_READ, False)
        connection.exec_driver_sql("BEGIN" if read else "BEGIN IMMEDIATE")


def reading(engine: Engine) -> Engine:
    """``engine`` for transactions that only read: on SQLite they do not wait for a writer
    (``status``, ``history`` and the dashboard answer while a sync writes). Nothing may be
    written through it."""
    return engine.execution_options(**{_READ: True})


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite ledger URL (None for other databases and in-memory)."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return None
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return Path(database)


def missing_sqlite(url: str) -> Path | None:
    """The file of a SQLite ledger that does not exist yet (None when it exists, or for
    other databases)."""
    path = sqlite_path(url)
    return path if path is not None and not path.exists() else None


def connect(url: str, create: bool = True) -> Engine:
    """An engine for the ledger at ``url``, migrated to the current schema.

    A SQLite file that does not exist is created only with ``create``; otherwise it is a
    ConfigError naming it (a mistyped ledger must never look like an empty one).
    """
    try:
        parsed = make_url(url)
        parsed.port  # noqa: B018 - a port that is not a number fails here, not deep inside
    except (ArgumentError, ValueError):
        raise ConfigError(f"ledger: not a database URL: {safe_url(url)}") from None
    options: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_path(url)
        if path is not None and not path.exists():
            if not create:
                raise ConfigError(
                    f"ledger: no ledger at {path} (check `ledger` in the config; "
                    "jobpub sync creates the default one)"
                )
            path.parent.mkdir(parents=True, exist_ok=True)
    else:
        options.update(pool_pre_ping=True, pool_size=5)
    try:
        engine = create_engine(parsed, **options)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        hint = (
            " (install the extra: pip install 'jobpub[postgres]')"
            if parsed.get_backend_name() == "postgresql"
            else ""
        )
        raise ConfigError(f"ledger: no driver for {safe_url(url)}: {exc}{hint}") from None
    if engine.dialect.name == "sqlite":
        _sqlite_setup(engine)
    try:
        migrate(engine)
    except OperationalError as exc:
        raise ConfigError(
            f"ledger: cannot open {safe_url(url)}: {str(exc.orig).splitlines()[0]}"
        ) from None
    return engine


def _alembic_config(connection: Connection) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "publisher:migrations")
    config.attributes["connection"] = connection
    return config


def migrate(engine: Engine) -> None:
    """Bring the ledger's schema to the newest revision (a no-op when it is current)."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    with reading(engine).connect() as connection:  # (current, the usual case: a read)
        current = MigrationContext.configure(connection).get_current_heads()
        head = ScriptDirectory.from_config(_alembic_config(connection)).get_heads()
    if set(current) == set(head):
        return
    with engine.begin() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
        if set(current) != set(head):
            command.upgrade(_alembic_config(connection), "head")
