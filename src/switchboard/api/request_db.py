"""A request's database access: the ORM Session, and a Connection for Core statements.

Ordinary commands get a fresh Session from `Database.session()`. Quick (read-only) commands run on the
thread's kept connection (`Database.kept_connection()`), and their Session over that connection is only
built when something asks for it: a handler that runs Core statements on `connection` never pays for the
ORM's session and transaction bookkeeping.
"""

from __future__ import annotations

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from switchboard.db.engine import end_transaction


class RequestDb:
    """Database access of one request over an existing Session (the ordinary, eager case)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    @property
    def session(self) -> Session:
        """The request's Session; committed by the dispatcher on success, rolled back on failure."""
        return self._session

    @property
    def connection(self) -> Connection:
        """The Session's connection (same transaction), for Core statements that need no ORM entities."""
        return self._session.connection()


class KeptConnectionDb(RequestDb):
    """Database access of a quick command: a kept connection, with a Session over it made on demand.

    `session_for` reuses one closed Session per connection (a closed Session is reusable; building one
    costs about as much as a short read)."""

    def __init__(self, connection: Connection, spare: Session | None = None) -> None:
        self._connection = connection
        self._spare = spare if spare is not None and spare.bind is connection else None
        self._made: Session | None = None

    @property
    def session(self) -> Session:
        if self._made is None:
            self._made = self._spare or Session(bind=self._connection, expire_on_commit=False)
        return self._made

    @property
    def connection(self) -> Connection:
        return self._connection

    @property
    def made_session(self) -> Session | None:
        """The Session if one was asked for, else None."""
        return self._made

    def finish(self, *, ok: bool) -> Session | None:
        """End the request's transaction: commit when it succeeded and wrote something, otherwise roll
        back. Returns the (closed, reusable) Session if one was made."""
        session = self._made
        try:
            if ok and self._wrote():
                if session is not None:
                    session.commit()
                if self._connection.in_transaction():  # begun on the connection, outside the Session
                    self._connection.commit()
        finally:
            if session is not None:
                session.close()
            end_transaction(self._connection)
        return session

    def _wrote(self) -> bool:
        """Whether there is anything to commit: pending ORM changes, or (SQLite) an open write transaction.
        Python's sqlite3 opens a transaction only before the first write, so reads leave none open. Other
        databases open one for reads too: there this answers True whenever a transaction is open."""
        session = self._made
        if session is not None and (session.new or session.dirty or session.deleted):
            return True
        if not self._connection.in_transaction():
            return False
        if self._connection.dialect.name != "sqlite":
            return True
        dbapi = self._connection.connection.dbapi_connection
        return bool(getattr(dbapi, "in_transaction", True))
