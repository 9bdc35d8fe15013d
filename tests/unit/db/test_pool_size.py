"""The PostgreSQL pool leaves room for sessions beside the connections threads keep."""

from __future__ import annotations

from switchboard.db.engine import Database


def test_kept_connections_enlarge_the_postgresql_pool_instead_of_eating_into_it() -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"  # never connected: the pool is only built
    plain = Database.from_url(url)
    with_workers = Database.from_url(url, kept_connections=33)
    try:
        assert with_workers.engine.pool.size() == plain.engine.pool.size() + 33  # type: ignore[attr-defined]
        assert plain.engine.pool.size() >= 10  # type: ignore[attr-defined]
    finally:
        plain.dispose()
        with_workers.dispose()
