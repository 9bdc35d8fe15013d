"""The migrations, applied from scratch, build exactly the schema the models describe (every table), and
every downgrade undoes its upgrade."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import switchboard.db.models  # noqa: F401  (registers every table)
from switchboard.db.base import Base
from switchboard.db.engine import make_engine
from switchboard.db.migrate import alembic_config, upgrade

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


def test_every_migration_downgrades_and_upgrades_again(database_url: str) -> None:
    """Down to an empty database and back up: each revision's downgrade undoes exactly its upgrade."""
    engine = make_engine(database_url)
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    try:
        upgrade(engine)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()
