"""Reads run straight on the DB-API connection, for the few statements on the API's hottest path.

SQLAlchemy's execution layer (execution context, result metadata, row objects) costs several times what
SQLite takes to answer a short indexed read. These helpers keep what matters of it: the statement runs in
the SQLAlchemy connection's transaction (begun first if need be, so that ending the request's transaction
also ends what the database opened), DB-API errors are raised as SQLAlchemy's DBAPIError, and a lost
connection is invalidated (`connection_invalidated` set) exactly as `Connection.execute` would do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Dialect, Select
from sqlalchemy.exc import DBAPIError

Processor = Callable[[Any], Any]


def _run(connection: Connection, sql: str, fetch: Callable[[Any], Any]) -> Any:
    if not connection.in_transaction():
        connection.begin()
    proxied = connection.connection
    dialect = connection.dialect
    cursor = None
    try:
        # SQLite files of this process hand out a plain cursor for reads (see db.sqlite_writes).
        read_cursor = getattr(proxied.dbapi_connection, "read_cursor", None)
        cursor = read_cursor() if read_cursor is not None else proxied.cursor()
        cursor.execute(sql)
        return fetch(cursor)
    except dialect.loaded_dbapi.Error as error:
        lost = dialect.is_disconnect(error, proxied.dbapi_connection, cursor)
        if lost:
            connection.invalidate(error)
        raise DBAPIError.instance(sql, None, error, dialect.loaded_dbapi.Error, connection_invalidated=lost,
                                  dialect=dialect) from error
    finally:
        if cursor is not None and not connection.invalidated:
            cursor.close()


def read_first_row(connection: Connection, sql: str) -> tuple[Any, ...] | None:
    """The first row of `sql` (a read without parameters, valid on every dialect; never a write: SQLite's
    writer queue is bypassed), or None. Values come as the DB-API returns them (no SQLAlchemy type
    processing). About a fifth of `Connection.execute`'s cost."""
    row = _run(connection, sql, lambda cursor: cursor.fetchone())
    return None if row is None else tuple(row)


class PrebuiltRead:
    """A Core SELECT built once (at module level) whose rows are read straight off the DB-API cursor.

    The statement is compiled once per dialect with its literal values inlined, so it must take no
    parameters whose values change: filters, LIMIT and OFFSET belong in statements run the ordinary way.
    Each value goes through its column type's result processing, as SQLAlchemy would apply it (booleans
    on SQLite, decorated types), and rows are made by `row_type` (default: plain tuples)."""

    def __init__(self, statement: Select[Any], row_type: Callable[[tuple[Any, ...]], Any] = tuple) -> None:
        self.statement = statement
        self._row_type = row_type
        # Per dialect: the SQL, and (column index, result processor) for the columns that have one.
        self._prepared: dict[tuple[str, str], tuple[str, tuple[tuple[int, Processor], ...]]] = {}

    def rows(self, connection: Connection) -> list[Any]:
        """Every row of the statement, in the connection's transaction. Raises DBAPIError."""
        dialect = connection.dialect
        prepared = self._prepared.get((dialect.name, dialect.driver)) or self._prepare(dialect)
        sql, processors = prepared
        raw = _run(connection, sql, lambda cursor: cursor.fetchall())
        make = self._row_type
        if not processors:
            return [make(tuple(row)) for row in raw]
        rows = []
        for raw_row in raw:
            row = list(raw_row)
            for index, process in processors:
                row[index] = process(row[index])
            rows.append(make(tuple(row)))
        return rows

    def _prepare(self, dialect: Dialect) -> tuple[str, tuple[tuple[int, Processor], ...]]:
        compiled = self.statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
        sql = str(compiled)
        if "%" in sql:
            # pyformat drivers would read a literal % differently without parameters: not worth handling.
            raise ValueError(f"statement unsuitable for a prebuilt read (contains %): {sql}")
        processors = tuple(
            (index, process) for index, column in enumerate(self.statement.selected_columns)
            if (process := column.type.dialect_impl(dialect).result_processor(dialect, None)) is not None)
        self._prepared[(dialect.name, dialect.driver)] = (sql, processors)
        return sql, processors
