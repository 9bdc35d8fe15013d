"""Migration 0002 creates exactly the tables the job models describe (on SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from switchboard.db.base import Base
from switchboard.db.engine import Database
from switchboard.db.models import jobs  # noqa: F401  (the models under test)

pytestmark = pytest.mark.database

TABLES = {"async_job", "management_server"}


def _table_of(diff: Any) -> str | None:
    if isinstance(diff, list):  # column modifications come grouped
        return _table_of(diff[0])
    for part in diff[1:]:
        name = getattr(part, "name", None) if not isinstance(part, str) else None
        table = getattr(part, "table", None)
        if table is not None and getattr(table, "name", None):
            return str(table.name)
        if name in TABLES:
            return str(name)
    if len(diff) > 2 and isinstance(diff[2], str):
        return diff[2]
    return None


def test_the_migration_matches_the_job_models(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    ours = [diff for diff in diffs if _table_of(diff) in TABLES]
    assert ours == []
