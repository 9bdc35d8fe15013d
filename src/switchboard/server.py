"""The management server's composition root: settings → database → areas → ASGI app → uvicorn.

Each area (identity, jobs, infrastructure, extensions, compute, ...) contributes through its module in
`switchboard.wiring`: a `wire(parts)` function that registers its services, its authenticator or job
submitter, extra routes, and start-up/shut-down steps. This is the only place that knows all areas.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.routing import BaseRoute

import switchboard.api.commands  # noqa: F401  (registers every API command)
from switchboard.api.app import ClientApi, create_app
from switchboard.api.auth import Authenticator
from switchboard.api.dispatcher import Dispatcher, JobSubmitter
from switchboard.api.registry import REGISTRY
from switchboard.db.engine import Database
from switchboard.db.migrate import upgrade
from switchboard.errors import AuthenticationFailed
from switchboard.jobs.settings import JobSettings
from switchboard.services import Services
from switchboard.settings import Settings

log = logging.getLogger(__name__)

# Order matters: later areas may use what earlier ones registered.
AREAS = ("identity", "jobs", "infrastructure", "extensions", "compute", "custom_actions", "ui")

Step = Callable[[], Awaitable[None] | None]


@dataclass
class ServerParts:
    services: Services
    authenticator: Authenticator | None = None
    submit_job: JobSubmitter | None = None
    routes: list[BaseRoute] = field(default_factory=list)
    startup: list[Step] = field(default_factory=list)
    shutdown: list[Step] = field(default_factory=list)


class _RefuseAll:
    def authenticate(self, *_args: object) -> object:
        raise AuthenticationFailed("unable to verify user credentials and/or request signature")


def prepare(settings: Settings, *, migrate: bool = True) -> ServerParts:
    """Open the database, apply migrations, and let every area wire itself in."""
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    settings.key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Each job worker and the event loop (quick commands) keep a connection of their own.
    db = Database.from_url(settings.database_url, kept_connections=JobSettings.from_env().workers + 1)
    if migrate:
        upgrade(db.engine)
    parts = ServerParts(services=Services(settings=settings, db=db))
    for area in AREAS:
        module = importlib.import_module(f"switchboard.wiring.{area}")
        module.wire(parts)
    return parts


def build_app(parts: ServerParts) -> ClientApi:
    dispatcher = Dispatcher(
        registry=REGISTRY,
        services=parts.services,
        authenticator=parts.authenticator or _RefuseAll(),  # type: ignore[arg-type]
        submit_job=parts.submit_job,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        for step in parts.startup:
            await _call(step)
        try:
            yield
        finally:
            for step in reversed(parts.shutdown):
                await _call(step)
            parts.services.db.dispose()

    return create_app(dispatcher, parts.routes, lifespan=lifespan)


async def _call(step: Step) -> None:
    result = step()
    if asyncio.iscoroutine(result):
        await result


def serve(settings: Settings) -> None:
    """Run the management server until interrupted."""
    parts = prepare(settings)
    app = build_app(parts)
    log.info("Switchboard management server listening on http://%s:%d", settings.host, settings.port)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", access_log=False)
