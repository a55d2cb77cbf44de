"""The ledger's schema: migrations build exactly the tables the code uses, on both databases."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from publisher.database import connect, safe_url
from publisher.errors import ConfigError
from publisher.tables import REPLAN, listings, metadata, postings


def test_migrations_match_the_tables(ledger_url: str) -> None:
    engine = connect(ledger_url)
    connect(ledger_url).dispose()  # opening a current ledger again changes nothing
    with engine.connect() as conn:
        context = MigrationContext.configure(conn)
        assert context.get_current_heads() == ("0012",)
        assert compare_metadata(context, metadata) == []
    engine.dispose()


def test_naive_datetimes_are_refused(ledger_url: str) -> None:
    engine = connect(ledger_url)
    with pytest.raises(sa.exc.StatementError, match="aware datetimes only"), engine.begin() as c:
        c.execute(
            sa.insert(postings).values(
                id="x",
                revision=1,
                content_hash="h",
                spec="{}",
                source="file",
                updated_at=datetime(2026, 1, 1),
            )
        )
    engine.dispose()


def test_bad_urls_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="not a database URL"):
        connect("not a url")
    with pytest.raises(ConfigError, match="no driver"):
        connect("mysql+nosuchdriver://u:secret@h/db")
    assert safe_url("postgresql+psycopg://u:secret@h/db") == "postgresql+psycopg://u:***@h/db"


def test_a_second_run_adding_the_same_listings_and_quota_does_not_collide(ledger_url: str) -> None:
    from publisher.ledger import Ledger
    from tests.factories import NOW, make_posting

    first, second = Ledger(connect(ledger_url)), Ledger(connect(ledger_url))
    first.save_postings([(make_posting(), "file", "postings/data-analyst.yaml", None)], NOW)
    items = [("data-analyst", "indeed_feed", "jobpub-data-analyst-indeed_feed")]
    first.add_listings(items, NOW)
    second.add_listings(items, NOW)  # planned before the first one's insert was visible
    assert [(r.posting_id, r.board, r.state) for r in second.listings()] == [
        ("data-analyst", "indeed_feed", "scheduled")
    ]
    first.use_quota("google", "2026-11-26", 2)
    second.use_quota("google", "2026-11-26", 3)
    assert first.quota_used("google", "2026-11-26") == 5
    first.engine.dispose()
    second.engine.dispose()


def test_upgrading_a_0001_ledger_makes_repeated_keys_unique(ledger_url: str) -> None:
    from alembic import command

    from publisher.database import _alembic_config

    engine = sa.create_engine(ledger_url)
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0001")
        conn.execute(
            sa.text(
                "INSERT INTO postings (id, revision, content_hash, spec, spec_hash, source, "
                "timezone, updated_at) VALUES ('a', 1, 'h', '{}', 'h', 'file', 'UTC', "
                "'2026-11-01 00:00:00')"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO listings (posting_id, board, state, external_ref, refresh_count, "
                "attempts, reconcile, changed_at) VALUES ('a', 'webhook', 'expired', 'ref', 0, 0, "
                "false, '2026-11-01 00:00:00')"
            )
        )
        for _ in range(2):  # the old manual-expire key, twice
            conn.execute(
                sa.text(
                    "INSERT INTO due_work (listing_id, kind, reason, due_at, state, attempts, "
                    "idempotency_key, created_at) SELECT id, 'expire', 'by hand', "
                    "'2026-11-01 00:00:00', 'done', 1, 'ref:expire:manual', '2026-11-01 00:00:00' "
                    "FROM listings"
                )
            )
    engine.dispose()
    upgraded = connect(ledger_url)  # opening it migrates to the newest revision
    with upgraded.begin() as conn:
        keys = conn.execute(sa.text("SELECT idempotency_key FROM due_work ORDER BY id"))
        assert [k for (k,) in keys] == ["ref:expire:manual-w1", "ref:expire:manual-w2"]
        version, hold = conn.execute(sa.text("SELECT version, hold FROM listings")).one()
        assert (version, hold) == (0, None)
        # next_due_at came as NULL (0010) and is the mark of "plan again" (0011)
        assert conn.execute(sa.select(listings.c.next_due_at)).scalar_one() == REPLAN
    upgraded.dispose()


def test_work_planned_on_a_stale_read_of_a_listing_is_not_queued(ledger_url: str) -> None:
    """Two runs plan on the same read; the first one's work changes the listing; the
    second one's plan is then stale and queues nothing (a real race: test_race.py)."""
    from publisher.ledger import Ledger, Outcome
    from tests.factories import NOW, make_posting

    first, second = Ledger(connect(ledger_url)), Ledger(connect(ledger_url))
    first.save_postings([(make_posting(), "file", "postings/data-analyst.yaml", None)], NOW)
    first.add_listings([("data-analyst", "fakeboard", "ref")], NOW)
    (listing,) = second.listings()  # both runs read version 0 and plan a post
    item = {
        "listing_id": listing.id,
        "kind": "post",
        "reason": "new",
        "due_at": NOW,
        "ref": "ref",
        "revision": 1,
        "version": listing.version,
    }
    assert first.enqueue([item], [], NOW) == 1
    (work,), _ = first.claim("first", NOW)
    assert work.idempotency_key == "ref:post:r1:1"
    first.record(
        [Outcome(work.id, listing.id, {"state": "live", "board_id": "9"}, {"state": "done"})]
    )
    assert second.enqueue([item], [], NOW) == 0  # planned on version 0; it is 1 now
    assert second.claim("second", NOW) == ([], [])
    (now_live,) = second.listings()
    assert (now_live.state, now_live.version) == ("live", 1)
    first.engine.dispose()
    second.engine.dispose()


def test_a_change_waiting_for_approval_is_decided_once(ledger_url: str) -> None:
    from publisher.web.changes import Changes

    engine = connect(ledger_url)
    store = Changes(engine)
    first = store.propose("data-analyst", "edit", "ana", "title: A\n", "ab" * 32)
    second = store.propose("data-analyst", "reopen", "ana")
    store.propose("ux-writer", "edit", "cy", "title: B\n")
    assert [c.id for c in store.pending()] == [first, second, first + 2]
    assert store.decide(first, "approved", "bob") is True
    assert store.decide(first, "rejected", "dee") is False  # decided once
    found = store.get(first)
    assert found is not None and (found.state, found.decided_by, found.base) == (
        "approved",
        "bob",
        "ab" * 32,
    )
    assert found.created_at.tzinfo is not None and found.decided_at is not None
    assert [(c.kind, c.state) for c in store.of("data-analyst")] == [
        ("edit", "approved"),
        ("reopen", "pending"),
    ]
    assert store.get(999) is None
    engine.dispose()


def test_rows_written_many_at_once_are_written_as_one_by_one(ledger_url: str) -> None:
    """Inserts and updates of many rows (on PostgreSQL one statement of arrays) skip
    conflicting rows, return the ids inserted, keep aware times, bump what they change and,
    when an id comes twice, leave the last value, as an executemany does."""
    from publisher.ledger import Ledger, _insert_rows, _update_many
    from publisher.tables import due_work
    from tests.factories import NOW, make_posting

    ledger = Ledger(connect(ledger_url))
    ledger.save_postings([(make_posting(), "file", "postings/data-analyst.yaml", None)], NOW)
    ledger.add_listings([("data-analyst", b, f"ref-{b}") for b in ("a", "b", "c")], NOW)
    ledger.add_listings([("data-analyst", "a", "ref-a"), ("data-analyst", "d", "ref-d")], NOW)
    rows = {r.board: r for r in ledger.listings()}
    assert sorted(rows) == ["a", "b", "c", "d"]
    statements: list[str] = []
    sa.event.listen(
        ledger.engine, "before_cursor_execute", lambda *args: statements.append(args[2])
    )

    def work(board: str, key: str) -> dict[str, object]:
        return {
            "listing_id": rows[board].id,
            "kind": "post",
            "reason": "new",
            "due_at": NOW,
            "idempotency_key": key,
            "revision": 1,
            "hold": None,
            "state": "done",
            "attempts": 0,
            "created_at": NOW,
        }

    with ledger.engine.begin() as conn:
        first = _insert_rows(conn, due_work, [work("a", "k1"), work("b", "k2")], returning=True)
        again = _insert_rows(conn, due_work, [work("a", "k1"), work("c", "k3")], returning=True)
        _update_many(
            conn,
            listings,
            [(rows["a"].id, {"url": "https://x/1"}), (rows["b"].id, {"url": "https://x/2"})],
            bump=True,
        )
        _update_many(
            conn,
            listings,
            [(rows["c"].id, {"url": "https://x/3"}), (rows["c"].id, {"url": "https://x/4"})],
            bump=True,
        )
    assert len(first) == 2 and len(again) == 1 and again[0][0] not in {i for (i,) in first}
    if ledger_url.startswith("postgresql"):  # one statement per insert and per update
        assert len(statements) == 4  # (the update with an id twice: an executemany)
    with ledger.engine.connect() as conn:
        keys = conn.execute(
            sa.select(due_work.c.idempotency_key, due_work.c.created_at).order_by(due_work.c.id)
        ).all()
    assert [k for k, _ in keys] == ["k1", "k2", "k3"] and all(t == NOW for _, t in keys)
    after = {r.board: r for r in ledger.listings()}
    assert [after[b].url for b in "abcd"] == ["https://x/1", "https://x/2", "https://x/4", None]
    assert [after[b].version - rows[b].version for b in "abcd"] == [1, 1, 2, 0]  # c: twice
    assert {after[b].next_due_at for b in "abc"} == {REPLAN}
    with (
        pytest.raises(sa.exc.StatementError, match="aware datetimes only"),
        ledger.engine.begin() as conn,
    ):
        _insert_rows(conn, due_work, [{**work("d", "k4"), "due_at": datetime(2026, 1, 1)}])
    ledger.engine.dispose()
