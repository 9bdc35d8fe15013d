"""Migration 0005 creates exactly the tables the compute models declare, and downgrades cleanly."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Table, inspect

import switchboard.db.models  # noqa: F401  (every table)
from switchboard.db.base import Base
from switchboard.db.engine import Database
from switchboard.db.migrate import alembic_config, upgrade
from switchboard.db.models import compute

pytestmark = pytest.mark.database

OWN_TABLES = {
    value.__table__.name for value in vars(compute).values() if isinstance(getattr(value, "__table__", None), Table)
}


def _names(diff: Any) -> set[str]:
    entries = diff if isinstance(diff, list) else [diff]
    names: set[str] = set()
    for entry in entries:
        for part in entry:
            if isinstance(part, Table):
                names.add(part.name)
            elif isinstance(getattr(part, "table", None), Table):
                names.add(part.table.name)
            elif isinstance(part, str):
                names.add(part)
    return names


def test_the_migration_matches_the_extension_models(database_url: str) -> None:
    db = Database.from_url(database_url)
    try:
        upgrade(db.engine)
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
        assert [diff for diff in differences if _names(diff) & OWN_TABLES] == []
        assert {"instance", "instance_details", "compute_lease"} == OWN_TABLES
    finally:
        db.dispose()


def test_downgrade_to_0004_drops_the_compute_tables(database_url: str) -> None:
    db = Database.from_url(database_url)
    try:
        upgrade(db.engine)
        config = alembic_config(db.engine.url.render_as_string(hide_password=False))
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0004")
        tables = set(inspect(db.engine).get_table_names())
        assert not tables & OWN_TABLES
        assert {"nic", "extension", "template", "management_server"} <= tables
    finally:
        db.dispose()
