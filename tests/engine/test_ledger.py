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


def test_racing_runs_adding_the_same_listings_do_not_collide(ledger_url: str) -> None:
    from publisher.ledger import Ledger
    from tests.factories import NOW, make_posting

    first, second = Ledger(connect(ledger_url)), Ledger(connect(ledger_url))
    first.save_postings([(make_posting(), "file", "postings/data-analyst.yaml", None)], NOW)
    items = [("data-analyst", "indeed_feed", "jobpub-data-analyst-indeed_feed")]
    first.add_listings(items, NOW)
    second.add_listings(items, NOW)  # planned before the first one's insert was visible
    assert [(r.posting_id, r.board, r.state) for r in second.listings()] == [
        ("data-analyst", "indeed_feed", "scheduled")]
    first.use_quota("google", "2026-11-26", 2)
    second.use_quota("google", "2026-11-26", 3)
    assert first.quota_used("google", "2026-11-26") == 5
    first.engine.dispose()
    second.engine.dispose()
