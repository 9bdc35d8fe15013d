"""Dispatch one API request: find the command, authenticate, authorise, validate, run, shape the reply."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from switchboard.api.auth import Authenticator
from switchboard.api.call import Call, RequestMeta
from switchboard.api.caller import Caller
from switchboard.api.errors import WireError, internal_error, to_wire
from switchboard.api.params import RawRequest, parse_params
from switchboard.api.registry import Command, CommandRegistry
from switchboard.api.responses import AsyncJobRequest, envelope
from switchboard.errors import PermissionDenied, SwitchboardError, UnsupportedCommand
from switchboard.services import Services

log = logging.getLogger(__name__)

# Submits an async job inside the request's transaction; returns the job's public id.
JobSubmitter = Callable[[Call, AsyncJobRequest], str]


@dataclass
class Reply:
    status: int
    body: dict[str, Any]
    set_cookies: dict[str, str | None]


class Dispatcher:
    def __init__(
        self,
        *,
        registry: CommandRegistry,
        services: Services,
        authenticator: Authenticator,
        submit_job: JobSubmitter | None = None,
    ) -> None:
        self._registry = registry
        self._services = services
        self._authenticator = authenticator
        self._submit_job = submit_job
        # Sessions for quick (read-only) commands: the same settings as Database.session()'s.
        self._read_sessions = sessionmaker(services.db.engine, expire_on_commit=False)
        # One closed read session kept per thread: a closed Session is reusable, and building one costs
        # about a tenth of a short list request.
        self._spare = threading.local()

    def is_quick(self, pairs: dict[str, str]) -> bool:
        """Whether the request names a command that may run on the event loop (see `Command.quick`).

        Session requests never do: resolving a session now and then records its use (a write)."""
        if "sessionkey" in pairs:
            return False
        name = pairs.get("command", "")
        command = self._registry.get(name) if name else None
        return command is not None and command.quick

    def dispatch(self, pairs: dict[str, str], meta: RequestMeta) -> Reply:
        """Run the request synchronously (the caller puts this on a worker thread)."""
        raw = RawRequest(pairs)
        name = raw.scalars.get("command", "")
        command = self._registry.get(name) if name else None
        response_name = (command.name if command else name) or "error"
        try:
            if command is None:
                raise UnsupportedCommand("The given command does not exist or it is not available for user")
            return self._run(command, raw, meta)
        except SwitchboardError as error:
            wire = to_wire(error)
            if wire.errorcode >= 500:
                log.warning("command %s failed: %s", response_name, error.message)
            return self._error(response_name, wire)
        except Exception:
            log.exception("command %s failed unexpectedly", response_name)
            return self._error(response_name, internal_error())

    def _run(self, command: Command, raw: RawRequest, meta: RequestMeta) -> Reply:
        with self._session_for(command) as session:
            caller: Caller | None = None
            if command.requires_auth:
                caller = self._authenticator.authenticate(session, raw, meta)
                if caller.role_type not in command.roles:
                    # CloudStack hides commands a role may not call rather than admitting they exist.
                    raise UnsupportedCommand(
                        f"The given command:{command.name} does not exist or it is not available for user"
                    )
            params = parse_params(command.name, command.params, raw)
            call = Call(command=command, params=params, caller=caller, session=session,
                        services=self._services, meta=meta)
            result = command.handler(call)
            if isinstance(result, AsyncJobRequest):
                if self._submit_job is None:
                    raise PermissionDenied("Async commands are not available in this process")
                job_id = self._submit_job(call, result)
                body: dict[str, Any] = {"jobid": job_id}
                if result.object_id is not None:
                    body["id"] = result.object_id
                result = body
        return Reply(200, envelope(command.name, result), call.set_cookies)

    @contextmanager
    def _session_for(self, command: Command) -> Iterator[Session]:
        """The request's session: committed on success, rolled back on error.

        A quick command only reads, so its session is just closed (which rolls back) when it wrote nothing:
        on SQLite that skips a COMMIT and the ORM's commit bookkeeping, a sizeable share of a short list
        request. Should it have written after all, it is committed like any other."""
        if not command.quick:
            with self._services.db.session() as session:
                yield session
            return
        # Taken out of the thread-local while in use, so a nested dispatch on this thread gets its own.
        session = self._spare.__dict__.pop("session", None) or self._read_sessions()
        try:
            yield session
            if _wrote(session):
                session.commit()
        finally:
            session.close()
        self._spare.session = session

    @staticmethod
    def _error(response_name: str, wire: WireError) -> Reply:
        return Reply(wire.errorcode, envelope(response_name, wire.body()), {})


def _wrote(session: Session) -> bool:
    """Whether `session` has changes to commit: pending ORM changes, or (SQLite) an open write transaction.
    Python's sqlite3 opens a transaction only before the first write, so reads leave `in_transaction`
    false. Other databases open one for reads too: there this answers True and the session is committed."""
    if session.new or session.dirty or session.deleted:
        return True
    if not session.in_transaction():
        return False
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return True
    return bool(getattr(connection.connection.dbapi_connection, "in_transaction", True))
