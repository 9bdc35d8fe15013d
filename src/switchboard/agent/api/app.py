"""The agent's ASGI application: routes, error mapping, OpenAPI, the client allow-list, and the reconcile
loop tied to the application's lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI

from switchboard.agent.api import actions, misc, vms
from switchboard.agent.api.deps import AgentContext
from switchboard.agent.api.errors import install_error_handlers
from switchboard.agent.tls import ClientAllowList

__all__ = ["create_app"]


def create_app(agent: AgentContext, *, run_reconciler: bool = True) -> ClientAllowList:
    """Build the application for `agent`, wrapped in the client allow-list (whose entries `replace` swaps
    while serving). With `run_reconciler`, the reconcile loop starts with the app (its first pass runs at
    once, in the background) and stops with it."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if run_reconciler:
            agent.reconciler.start()
        try:
            yield
        finally:
            if run_reconciler:
                await anyio.to_thread.run_sync(agent.reconciler.stop)

    app = FastAPI(
        title="Switchboard Firecracker host agent",
        description="Wire-compatible with the original CloudStack Firecracker agent; see docs/agent.md.",
        version=misc.VERSION,
        lifespan=lifespan,
        docs_url=None,  # the interactive pages load scripts from a CDN; the JSON document is enough
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.agent = agent
    install_error_handlers(app)
    app.include_router(misc.public)
    app.include_router(vms.router)
    app.include_router(actions.router)
    app.include_router(misc.router)

    @app.get("/v1/openapi.json", include_in_schema=False)
    def openapi() -> dict[str, Any]:
        return app.openapi()

    allowed = agent.config.security.tls.allowed_clients
    return ClientAllowList(app, allowed, on_refusal=lambda: agent.metrics.auth_failure("client_cert"))
