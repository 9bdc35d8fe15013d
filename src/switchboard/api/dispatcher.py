"""Dispatch one API request: find the command, authenticate, authorise, validate, run, shape the reply."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import DBAPIError, OperationalError

from switchboard.api.auth import Authenticator
from switchboard.api.call import Call, RequestMeta
from switchboard.api.caller import Caller
from switchboard.api.errors import WireError, internal_error, to_wire
from switchboard.api.params import RawRequest, parse_params
from switchboard.api.registry import Command, CommandRegistry
from switchboard.api.request_db import KeptConnectionDb, RequestDb
from switchboard.api.responses import AsyncJobRequest, envelope
from switchboard.db.outage import explain, unavailable
from switchboard.errors import OperationFailed, PermissionDenied, SwitchboardError, UnsupportedCommand
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
            if wire.errorcode >= 500:
                log.warning("command %s failed: %s", response_name, error.message)
            return self._error(response_name, wire)
        except OperationalError as error:
            reason = unavailable(error)
            if reason is None:
                log.exception("command %s failed unexpectedly", response_name)
                return self._error(response_name, internal_error())
            # An operational condition, not a bug: one line in the log, and a caller who knows what to do.
            log.warning("command %s not carried out: %s (%s)", response_name, reason, error.orig)
            return self._error(response_name, to_wire(OperationFailed(explain(reason))))
        except Exception:
            log.exception("command %s failed unexpectedly", response_name)
            return self._error(response_name, internal_error())

    def _run(self, command: Command, raw: RawRequest, meta: RequestMeta) -> Reply:
        if not command.quick:
            with self._services.db.session() as session:
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
        with self._services.db.kept_connection() as connection:
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

