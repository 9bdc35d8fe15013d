"""The migrations, applied from scratch, build exactly the schema the models describe (every table)."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import switchboard.db.models  # noqa: F401  (registers every table)
from switchboard.db.base import Base
from switchboard.db.engine import make_engine
from switchboard.db.migrate import upgrade

pytestmark = pytest.mark.database


def test_migrations_match_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []
