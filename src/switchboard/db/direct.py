"""Reads run straight on the DB-API connection, for the few statements on the API's hottest path.

SQLAlchemy's execution layer (execution context, result metadata, row objects) costs several times what
SQLite takes to answer a short indexed read. These helpers keep what matters of it: the statement runs in
the SQLAlchemy connection's transaction (begun first if need be, so that ending the request's transaction
also ends what the database opened), DB-API errors are raised as SQLAlchemy's DBAPIError, and a lost
connection is invalidated (`connection_invalidated` set) exactly as `Connection.execute` would do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from sqlalchemy import Connection, Dialect, Select
from sqlalchemy.exc import DBAPIError

Processor = Callable[[Any], Any]
_NONE: Mapping[str, Any] = MappingProxyType({})


def _run(connection: Connection, sql: str, fetch: Callable[[Any], Any], parameters: Any = None) -> Any:
    if not connection.in_transaction():
        connection.begin()
    proxied = connection.connection
    dialect = connection.dialect
    cursor = None
    try:
        # SQLite files of this process hand out a plain cursor for reads (see db.sqlite_writes).
        read_cursor = getattr(proxied.dbapi_connection, "read_cursor", None)
        cursor = read_cursor() if read_cursor is not None else proxied.cursor()
        if parameters is None:
            cursor.execute(sql)
        else:
            cursor.execute(sql, parameters)
        return fetch(cursor)
    except dialect.loaded_dbapi.Error as error:
        lost = dialect.is_disconnect(error, proxied.dbapi_connection, cursor)
        if lost:
            connection.invalidate(error)
        raise DBAPIError.instance(sql, parameters, error, dialect.loaded_dbapi.Error, connection_invalidated=lost,
                                  dialect=dialect, hide_parameters=connection.engine.hide_parameters) from error
    finally:
        if cursor is not None and not connection.invalidated:
            cursor.close()


def _result_processors(statement: Select[*tuple[Any, ...]], dialect: Dialect) -> tuple[tuple[int, Processor], ...]:
    """(column index, result processor) for the selected columns that have one on `dialect`."""
    return tuple(
        (index, process) for index, column in enumerate(statement.selected_columns)
        if (process := column.type.dialect_impl(dialect).result_processor(dialect, None)) is not None)


def _processed(raw: list[Any], processors: tuple[tuple[int, Processor], ...],
               make: Callable[[tuple[Any, ...]], Any]) -> list[Any]:
    if not processors:
        return [make(tuple(row)) for row in raw]
    rows = []
    for raw_row in raw:
        row = list(raw_row)
        for index, process in processors:
            row[index] = process(row[index])
        rows.append(make(tuple(row)))
    return rows


def read_first_row(connection: Connection, sql: str) -> tuple[Any, ...] | None:
    """The first row of `sql` (a read without parameters, valid on every dialect; never a write: SQLite's
    writer queue is bypassed), or None. Values come as the DB-API returns them (no SQLAlchemy type
    processing). About a fifth of `Connection.execute`'s cost."""
    row = _run(connection, sql, lambda cursor: cursor.fetchone())
    return None if row is None else tuple(row)


class _Compiled:
    """A PrebuiltQuery's statement on one dialect: SQL with placeholders in the dialect's paramstyle, how
    to turn a parameter mapping into the DB-API's parameters, and the result processors."""

    def __init__(self, statement: Select[*tuple[Any, ...]], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        if "POSTCOMPILE" in self.sql:
            # Expanding IN lists and literal-execute parameters rewrite the SQL at every execution.
            raise ValueError(f"statement unsuitable for a prebuilt query (SQL rewritten per execution): {self.sql}")
        # Values fixed in the statement (literal comparisons become bound parameters with a value).
        self.defaults: dict[str, Any] = {}
        binders: dict[str, Processor] = {}
        for bind, name in compiled.bind_names.items():
            if not bind.required:
                self.defaults[name] = bind.effective_value
            binder = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if binder is not None:
                binders[name] = binder
        self.binders = binders
        # Positional paramstyles (SQLite's qmark) take a tuple in SQLAlchemy's order; named ones a dict.
        self.order: tuple[str, ...] | None = tuple(compiled.positiontup or ()) if compiled.positional else None
        self.names = tuple(dict.fromkeys(compiled.bind_names.values()))
        self.processors = _result_processors(statement, dialect)

    def parameters(self, given: Mapping[str, Any]) -> Any:
        values = {**self.defaults, **given} if self.defaults else dict(given)
        for name, binder in self.binders.items():
            values[name] = binder(values[name])
        if self.order is None:
            return {name: values[name] for name in self.names}  # a missing one: KeyError, as positionally
        return tuple(values[name] for name in self.order)


class PrebuiltQuery:
    """A Core SELECT built once (at module level) with bound parameters, run straight on the DB-API cursor.

    Values are passed to the driver as parameters (placeholders in the dialect's paramstyle, in the order
    SQLAlchemy compiled them), so one statement serves every value; a statement without bound parameters
    is run with none given (literals in it are passed the same way). Compiled once
    per dialect; each parameter goes through its type's bind processing and each column through its
    result processing, as SQLAlchemy would apply them. Expanding (IN list) parameters are refused
    (ValueError at the first run); a parameter the statement names but the call leaves out raises KeyError.
    """

    def __init__(self, statement: Select[*tuple[Any, ...]], row_type: Callable[[tuple[Any, ...]], Any] = tuple) -> None:
        self.statement = statement
        self._row_type = row_type
        self._compiled: dict[tuple[str, str], _Compiled] = {}

    def rows(self, connection: Connection, parameters: Mapping[str, Any] = _NONE) -> list[Any]:
        """Every row for `parameters`, in the connection's transaction. Raises DBAPIError."""
        compiled = self._prepare(connection.dialect)
        raw = _run(connection, compiled.sql, lambda cursor: cursor.fetchall(), compiled.parameters(parameters))
        return _processed(raw, compiled.processors, self._row_type)

    def first(self, connection: Connection, parameters: Mapping[str, Any]) -> Any | None:
        """The first row for `parameters`, or None. Raises DBAPIError."""
        compiled = self._prepare(connection.dialect)
        raw = _run(connection, compiled.sql, lambda cursor: cursor.fetchone(), compiled.parameters(parameters))
        return None if raw is None else _processed([raw], compiled.processors, self._row_type)[0]

    def _prepare(self, dialect: Dialect) -> _Compiled:
        key = (dialect.name, dialect.driver)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = _Compiled(self.statement, dialect)
        return compiled
