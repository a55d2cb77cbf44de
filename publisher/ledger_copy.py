"""``jobpub migrate-ledger FROM TO``: move a ledger to another database (a SQLite ledger to
PostgreSQL when a team grows). Both are brought to the current schema first; the target must
be empty; every table is copied with its ids in one transaction (all or nothing), row counts
are compared, and PostgreSQL's id sequences are moved past the copied ids. A ledger with work
in progress (a run holding a lease) is refused: stop ``jobpub run`` first."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Engine, Integer, func, insert, select, text

from publisher import clock
from publisher.database import connect, safe_url
from publisher.errors import UsageError
from publisher.tables import due_work, metadata

__all__ = ["copy_ledger"]

CHUNK = 1000


def copy_ledger(
    source_url: str, target_url: str, say: Callable[[str], None] = lambda _: None
) -> dict[str, int]:
    """Copy every table of the ledger at ``source_url`` into the empty one at ``target_url``;
    returns the rows copied per table."""
    if source_url == target_url:
        raise UsageError("the two ledgers are the same")
    source = connect(source_url, create=False)
    target = connect(target_url)
    try:
        _refuse_busy(source)
        _refuse_filled(target, target_url)
        copied: dict[str, int] = {}
        with source.connect() as read, target.begin() as write:
            for table in metadata.sorted_tables:  # parents before children
                count = 0
                rows = read.execute(select(table).order_by(*table.primary_key.columns))
                while chunk := rows.mappings().fetchmany(CHUNK):
                    write.execute(insert(table), [dict(r) for r in chunk])
                    count += len(chunk)
                copied[table.name] = count
                say(f"{table.name}: {count:,} row(s)")
            if target.dialect.name == "postgresql":
                _move_sequences(write)
        with target.connect() as check:
            landed = {
                t.name: check.execute(select(func.count()).select_from(t)).scalar_one()
                for t in metadata.sorted_tables
            }
        if landed != copied:
            raise UsageError(f"the copy does not match the source ({landed} vs {copied})")
        return copied
    finally:
        source.dispose()
        target.dispose()


def _refuse_busy(source: Engine) -> None:
    with source.connect() as conn:
        running = conn.execute(
            select(func.count())
            .select_from(due_work)
            .where(due_work.c.state == "running", due_work.c.lease_until > clock.now())
        ).scalar_one()
    if running:
        raise UsageError(
            f"{running} action(s) are running on the source ledger: stop "
            "jobpub run / sync first, then migrate"
        )


def _refuse_filled(target: Engine, url: str) -> None:
    with target.connect() as conn:
        for table in metadata.sorted_tables:
            if conn.execute(select(table).limit(1)).first() is not None:
                raise UsageError(
                    f"the target ledger {safe_url(url)} is not empty (table "
                    f"{table.name}): migrate into a new, empty database"
                )


def _move_sequences(conn: Connection) -> None:
    """After explicit ids, PostgreSQL's serial sequences must start past them."""
    for table in metadata.sorted_tables:
        keys = list(table.primary_key.columns)
        if (
            len(keys) != 1
            or not isinstance(keys[0].type, Integer)
            or keys[0].autoincrement is False
        ):
            continue
        name, column = table.name, keys[0].name
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', '{column}'), "
                f"COALESCE((SELECT MAX({column}) FROM {name}), 1), "
                f"(SELECT MAX({column}) FROM {name}) IS NOT NULL) "
                f"WHERE pg_get_serial_sequence('{name}', '{column}') IS NOT NULL"
            )
        )
