"""Shared fixtures. Set SWITCHBOARD_TEST_DATABASE_URL (a PostgreSQL server URL ending in a database that
may be used as a template, e.g. postgresql+psycopg://postgres@127.0.0.1:15432/postgres) to run the
database tests against PostgreSQL: each test then gets a fresh database on that server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_URL = os.environ.get("SWITCHBOARD_TEST_DATABASE_URL")

pytest_plugins = ["tests.support.fixtures"]


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a new PostgreSQL database when configured."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'switchboard.db'}"
        return
    name = f"sbtest_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
