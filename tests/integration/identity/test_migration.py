"""Migration 0001 creates exactly the identity tables the models describe."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from switchboard.db.base import Base
from switchboard.db.engine import make_engine
from switchboard.db.migrate import upgrade

pytestmark = pytest.mark.database

IDENTITY_TABLES = {"domains", "roles", "accounts", "users", "login_sessions"}


def test_identity_schema_matches_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine, "0001")
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()

    # A diff about one of our tables names it: ('add_column', None, 'users', ...) or Table('users', ...).
    def mentions_ours(diff: object) -> bool:
        text = repr(diff)
        return any(f"'{table}'" in text or f"<{table}>" in text for table in IDENTITY_TABLES)

    ours = [diff for diff in diffs if mentions_ours(diff)]
    assert ours == []
