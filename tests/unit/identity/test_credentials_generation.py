"""The credentials generation counter: bumped inside the changing transaction (so a rolled-back change
bumps nothing), read as committed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from switchboard.db.engine import Database
from switchboard.db.migrate import upgrade
from switchboard.identity import credentials

pytestmark = pytest.mark.database


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database.from_url(database_url)
    upgrade(db.engine)
    yield db
    db.dispose()


def _current(db: Database) -> int:
    with db.kept_connection() as connection:
        return credentials.current(connection)


def test_bumps_count_once_committed_and_not_when_rolled_back(database: Database) -> None:
    assert _current(database) == 0
    with database.session() as session:
        credentials.bump(session)
        credentials.bump(session)
    assert _current(database) == 2
    with pytest.raises(RuntimeError), database.session() as session:
        credentials.bump(session)
        raise RuntimeError("the change failed")
    assert _current(database) == 2


def test_a_missing_row_reads_as_zero_and_the_first_bump_makes_it(database: Database) -> None:
    with database.engine.begin() as connection:
        connection.execute(text("DELETE FROM credentials_generation"))
    assert _current(database) == 0
    with database.session() as session:
        credentials.bump(session)
    assert _current(database) == 1
