"""Dispatch one API request: find the command, authenticate, authorise, validate, run, shape the reply."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import DataError, DBAPIError, OperationalError, StatementError

from switchboard.api.auth import Authenticator
from switchboard.api.call import Call, RequestMeta
from switchboard.api.errors import WireError, internal_error, to_wire
from switchboard.api.params import RawRequest, parse_params, unknown_params
from switchboard.api.registry import Command, CommandRegistry
from switchboard.api.request_db import KeptConnectionDb, RequestDb
from switchboard.api.responses import AsyncJobRequest, envelope
from switchboard.api.services import Services
from switchboard.caller import Caller
from switchboard.db.engine import Database
from switchboard.db.outage import explain, unavailable
from switchboard.errors import (
    ExtensionFailed,
    InvalidParameter,
    OperationFailed,
    PermissionDenied,
    SwitchboardError,
    TooManyRequests,
    UnsupportedCommand,
)

log = logging.getLogger(__name__)

# Submits an async job inside the request's transaction; returns the job's public id.
JobSubmitter = Callable[[Call, AsyncJobRequest], str]


@dataclass
class Reply:
    status: int
    body: dict[str, Any]
    set_cookies: dict[str, str | None]
    headers: dict[str, str] = field(default_factory=dict)  # e.g. Retry-After of a 429


class Dispatcher:
    def __init__(
        self,
        *,
        registry: CommandRegistry,
        db: Database,
        services: Services,
        authenticator: Authenticator,
        submit_job: JobSubmitter | None = None,
    ) -> None:
        self._registry = registry
        self._db = db
        self._services = services
        self._authenticator = authenticator
        self._submit_job = submit_job
        # Per thread, the closed Session last made over its kept connection: reused while that connection
        # is (building a Session costs about a tenth of a short list request).
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
            if isinstance(error, ExtensionFailed):  # its text carries the extension's output: never logged
                log.warning("command %s failed: an extension failed (the reply says how)", response_name)
            elif wire.errorcode >= 500:
                log.warning("command %s failed: %s", response_name, error.message)
            reply = self._error(response_name, wire)
            if isinstance(error, TooManyRequests):
                reply.headers["retry-after"] = str(error.retry_after)
            return reply
        except (OverflowError, DataError) as error:
            return self._out_of_range(response_name, error)
        except OperationalError as error:
            reason = unavailable(error)
            if reason is None:
                log.exception("command %s failed unexpectedly", response_name)
                return self._error(response_name, internal_error())
            # An operational condition, not a bug: one line in the log, and a caller who knows what to do.
            log.warning("command %s not carried out: %s (%s)", response_name, reason, error.orig)
            return self._error(response_name, to_wire(OperationFailed(explain(reason))))
        except StatementError as error:
            if isinstance(error.orig, OverflowError):  # SQLite: an integer beyond 64 bits
                return self._out_of_range(response_name, error)
            log.exception("command %s failed unexpectedly", response_name)
            return self._error(response_name, internal_error())
        except Exception:
            log.exception("command %s failed unexpectedly", response_name)
            return self._error(response_name, internal_error())

    def _out_of_range(self, response_name: str, error: Exception) -> Reply:
        """A number or text beyond what Python's date arithmetic or a database column holds: the caller's
        value is at fault, not the server (the database's own text is not shown: it may quote values)."""
        log.info("command %s refused a value out of range (%s)", response_name, type(error).__name__)
        return self._error(response_name, to_wire(InvalidParameter(
            f"Unable to execute API command {response_name.lower()}: a value is out of the range the server can "
            "store")))

    def _run(self, command: Command, raw: RawRequest, meta: RequestMeta) -> Reply:
        if not command.quick:
            with self._db.session() as session:
                return self._call(command, raw, meta, RequestDb(session))
        try:
            return self._run_quick(command, raw, meta)
        except DBAPIError as error:
            # The kept connection went stale (e.g. the database server restarted): the pool would have
            # noticed before lending it (pre-ping); here a read-only command simply runs again once, on a
            # fresh connection.
            if not error.connection_invalidated:
                raise
            log.info("kept database connection was lost; running %s again on a new one", command.name)
            return self._run_quick(command, raw, meta)

    def _run_quick(self, command: Command, raw: RawRequest, meta: RequestMeta) -> Reply:
        """A quick command on the thread's kept connection; its Session only if something asks for one.
        Committed only if it wrote after all; otherwise its (read) transaction is rolled back."""
        with self._db.kept_connection() as connection:
            db = KeptConnectionDb(connection, self._spare.__dict__.pop("session", None))
            ok = False
            try:
                reply = self._call(command, raw, meta, db)
                ok = True
            finally:
                session = db.finish(ok=ok)
                if session is not None:
                    self._spare.session = session
            return reply

    def _call(self, command: Command, raw: RawRequest, meta: RequestMeta, db: RequestDb) -> Reply:
        caller: Caller | None = None
        if command.requires_auth:
            caller = self._authenticator.authenticate(db, raw, meta)
            if caller.role_type not in command.roles:
                # CloudStack hides commands a role may not call rather than admitting they exist.
                raise UnsupportedCommand(
                    f"The given command:{command.name} does not exist or it is not available for user"
                )
        params = parse_params(command.name, command.params, raw)
        unknown = unknown_params(command.param_keys, raw)
        if unknown:
            # As CloudStack: ignored, and named in the log (names only: values may be secrets).
            log.warning("Received unknown parameters for command %s. Unknown parameters : %s", command.name,
                        " ".join(unknown))
        call = Call(command=command, params=params, caller=caller, db=db, services=self._services, meta=meta)
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

    @staticmethod
    def _error(response_name: str, wire: WireError) -> Reply:
        return Reply(wire.errorcode, envelope(response_name, wire.body()), {})

