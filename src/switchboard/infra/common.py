"""Small helpers shared by the infrastructure services: paging, lookups by public id, name rules."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Connection, Result, Select, func, select
from sqlalchemy.orm import Session

from switchboard.db.direct import PrebuiltQuery
from switchboard.errors import InvalidParameter, NotFound

__all__ = ["Page", "fetch_page", "fetch_table_page", "live_by_uuid", "live_ref", "matches", "one_of", "require_name",
           "savepoint"]

T = TypeVar("T")


@dataclass(frozen=True)
class Page:
    """CloudStack paging: `page` starts at 1; without `pagesize` everything is returned."""

    page: int | None = None
    pagesize: int | None = None
    keyword: str | None = None

    @property
    def limited(self) -> bool:
        return bool(self.pagesize and self.pagesize > 0)


def fetch_page(session: Session, stmt: Select[*tuple[Any, ...]], page: Page) -> tuple[Sequence[Any], int]:
    """Run `stmt` (already ordered) for one page; return the rows and the total before paging.

    Without paging this is a single query; with paging a second COUNT query gives the total, unless the
    page is the last one (fewer rows than the page size).
    """
    return _paged(session.execute, stmt, page)


def fetch_table_page(db: Session | Connection, stmt: Select[*tuple[Any, ...]],
                     page: Page) -> tuple[Sequence[Any], int]:
    """`fetch_page` for a Core statement over tables (no ORM entities): it runs on a connection (the
    session's, or one given directly), which skips the ORM's execution layer (about half the cost of a
    short list query). Same rows, same transaction as `session.execute` would use."""
    connection = db.connection() if isinstance(db, Session) else db
    return _paged(connection.execute, stmt, page)


def _paged(execute: Callable[[Any], Result[Any]], stmt: Select[*tuple[Any, ...]],
           page: Page) -> tuple[Sequence[Any], int]:
    if not page.limited:
        rows = execute(stmt).all()
        return rows, len(rows)
    size = page.pagesize or 0
    offset = max(((page.page or 1) - 1) * size, 0)
    rows = execute(stmt.limit(size).offset(offset)).all()
    if len(rows) < size and (rows or offset == 0):
        # The last page: the total is known without counting (an empty page past the end is not).
        return rows, offset + len(rows)
    total = execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    return rows, int(total)


def live_by_uuid(session: Session, model: type[T], uuid: str, *, parameter: str, label: str) -> T:
    """The not-removed row of `model` with public id `uuid`; NotFound naming the parameter otherwise."""
    row = session.execute(
        select(model).where(model.uuid == uuid, model.removed.is_(None))  # type: ignore[attr-defined]
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"Unable to find {label} by id {uuid} (parameter {parameter})", uuids=[uuid])
    return row


def live_ref(connection: Connection, query: PrebuiltQuery, uuid: str, *, parameter: str, label: str) -> Any:
    """The row `query` (a PrebuiltQuery selecting one live row by a `uuid` parameter) finds for `uuid`;
    NotFound naming the parameter otherwise, as `live_by_uuid` says it. For reads that need a few columns
    and no ORM entity: no Session work, no identity map, no execution context."""
    row = query.first(connection, {"uuid": uuid})
    if row is None:
        raise NotFound(f"Unable to find {label} by id {uuid} (parameter {parameter})", uuids=[uuid])
    return row


def require_name(name: str | None, *, parameter: str = "name") -> str:
    """A trimmed, non-empty name; InvalidParameter naming `parameter` otherwise."""
    if name is None or not name.strip():
        raise InvalidParameter(f"Parameter {parameter} must not be empty", parameter=parameter)
    return name.strip()


def one_of(value: str, allowed: Sequence[str], *, parameter: str, ignore_case: bool = True) -> str:
    """Return the canonical spelling of `value` among `allowed`; InvalidParameter listing them otherwise."""
    for option in allowed:
        if option == value or (ignore_case and option.lower() == value.lower()):
            return option
    raise InvalidParameter(
        f"Invalid value {value} for parameter {parameter}; expected one of {', '.join(allowed)}", parameter=parameter
    )


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """A SAVEPOINT around one insert that may clash with a concurrent one (the caller retries on
    IntegrityError). The enclosing transaction carries on after a clash.

    Python's sqlite3 module opens transactions lazily, before the first write: a SAVEPOINT issued before
    that would itself become the outermost transaction and its RELEASE would commit early. So on SQLite
    a real transaction is opened first (IMMEDIATE: it also takes the write lock, so no other writer can
    slip in between our read of free values and our insert).
    """
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        raw = connection.connection.dbapi_connection
        if raw is not None and not raw.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
    with session.begin_nested():
        yield


def matches(column: Any, keyword: str) -> ColumnElement[bool]:
    """CloudStack's `keyword`: a case-insensitive substring match, with `%` and `_` taken literally."""
    return func.lower(column).contains(keyword.lower(), autoescape=True)
