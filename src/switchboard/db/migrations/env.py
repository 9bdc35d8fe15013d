"""Alembic environment: runs migrations on the connection or URL that `switchboard.db.migrate` passes in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import switchboard.db.models  # noqa: F401  (registers every table on Base.metadata)
from switchboard.db.base import Base
from switchboard.db.engine import make_engine

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(context.config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `switchboard db upgrade`")
run_migrations_online()
