"""The ledger's schema: migrations build exactly the tables the code uses, on both databases."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from publisher.database import connect, safe_url
from publisher.errors import ConfigError
from publisher.tables import metadata, postings


def test_migrations_match_the_tables(ledger_url: str) -> None:
    engine = connect(ledger_url)
    connect(ledger_url).dispose()  # opening a current ledger again changes nothing
    with engine.connect() as conn:
        context = MigrationContext.configure(conn)
        assert context.get_current_heads() == ("0001",)
        assert compare_metadata(context, metadata) == []
    engine.dispose()


def test_naive_datetimes_are_refused(ledger_url: str) -> None:
    engine = connect(ledger_url)
    with pytest.raises(sa.exc.StatementError, match="aware datetimes only"), engine.begin() as c:
        c.execute(sa.insert(postings).values(id="x", revision=1, content_hash="h", spec="{}",
                                             source="file", updated_at=datetime(2026, 1, 1)))
    engine.dispose()


def test_bad_urls_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="not a database URL"):
        connect("not a url")
    with pytest.raises(ConfigError, match="no driver"):
        connect("mysql+nosuchdriver://u:secret@h/db")
    assert safe_url("postgresql+psycopg://u:secret@h/db") == "postgresql+psycopg://u:***@h/db"
