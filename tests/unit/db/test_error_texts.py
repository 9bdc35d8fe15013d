"""Database errors reach the log; their texts never quote statement parameters, which may be secrets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from switchboard.db.direct import PrebuiltQuery
from switchboard.db.engine import Database

pytestmark = pytest.mark.database

SECRET = "sbt-secret-value-4711"
METADATA = MetaData()
VAULT = Table("vault", METADATA, Column("id", Integer, primary_key=True), Column("secret", String(64)))


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database.from_url(database_url)
    METADATA.create_all(db.engine)
    yield db
    db.dispose()


def test_a_failed_write_does_not_quote_its_values(database: Database) -> None:
    with pytest.raises(IntegrityError) as failure, database.session() as session:
        session.execute(VAULT.insert(), [{"id": 1, "secret": "first"}, {"id": 1, "secret": SECRET}])
        session.flush()
    assert SECRET not in str(failure.value) and "hidden" in str(failure.value)


def test_a_failed_direct_read_does_not_quote_its_values(database: Database) -> None:
    # The table is gone, so the read fails - on either database - with the secret among its parameters.
    broken = PrebuiltQuery(select(VAULT.c.id).where(VAULT.c.secret == bindparam("secret")))
    with database.kept_connection() as connection:
        connection.execute(text("DROP TABLE vault"))
        connection.commit()
        with pytest.raises(DBAPIError) as failure:
            broken.rows(connection, {"secret": SECRET})
    assert SECRET not in str(failure.value) and "hidden" in str(failure.value)
