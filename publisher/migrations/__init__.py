"""Alembic migrations of the ledger (run automatically when a ledger is opened)."""
