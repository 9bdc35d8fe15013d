"""The pool leaves room for sessions beside the connections threads keep, on PostgreSQL and SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.db.engine import Database


@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
def test_kept_connections_enlarge_the_pool_instead_of_eating_into_it(kind: str, tmp_path: Path) -> None:
    # Never connected: the pool is only built.
    url = ("postgresql+psycopg://nobody@127.0.0.1:1/none" if kind == "postgresql"
           else f"sqlite:///{tmp_path / 'pool.db'}")
    plain = Database.from_url(url)
    with_workers = Database.from_url(url, kept_connections=33)
    try:
        assert with_workers.engine.pool.size() == plain.engine.pool.size() + 33  # type: ignore[attr-defined]
        assert plain.engine.pool.size() >= 10  # type: ignore[attr-defined]
    finally:
        plain.dispose()
        with_workers.dispose()
