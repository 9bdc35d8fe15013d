"""What the API handlers need, gathered in one object (built by `server.py`, stored on `app.state`), and
the authentication dependencies that every protected route declares."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from fastapi import Request

from switchboard.agent.api.errors import ApiError
from switchboard.agent.auth import AccessDenied, Authenticator, AuthFailed, Principal, Role, Throttled
from switchboard.agent.config import AgentConfig
from switchboard.agent.metrics import AgentMetrics
from switchboard.agent.reconcile import Reconciler
from switchboard.agent.service import VmService
from switchboard.agent.snapshots import SnapshotService

__all__ = ["AgentContext", "admin", "agent_of", "context", "reader"]

_audit = logging.getLogger("switchboard.agent.audit")
_REALM = 'Basic realm="switchboard-agent", charset="UTF-8"'


@dataclass
class AgentContext:
    config: AgentConfig
    service: VmService
    snapshots: SnapshotService
    reconciler: Reconciler
    metrics: AgentMetrics
    authenticator: Authenticator


def agent_of(request: Request) -> AgentContext:
    """The AgentContext the app was built with."""
    agent: AgentContext = request.app.state.agent
    return agent


async def context(request: Request) -> AgentContext:
    """Dependency form of `agent_of` (async, so FastAPI does not send it to a worker thread)."""
    return agent_of(request)


async def _principal(request: Request, *, write: bool) -> Principal:
    agent = agent_of(request)
    source = request.client.host if request.client else "unknown"
    try:
        principal = await agent.authenticator.authenticate(request.headers.get("authorization"), source)
    except AuthFailed as exc:
        agent.metrics.auth_failure("credentials")
        raise ApiError(401, str(exc), headers={"WWW-Authenticate": _REALM}) from exc
    except AccessDenied as exc:
        agent.metrics.auth_failure("group")
        raise ApiError(403, str(exc)) from exc
    except Throttled as exc:
        agent.metrics.auth_failure("throttled")
        raise ApiError(429, str(exc), headers={"Retry-After": str(int(exc.retry_after) + 1)}) from exc
    if write and principal.role is not Role.ADMIN:
        agent.metrics.auth_failure("read_only")
        raise ApiError(403, f"user {principal.user} has read-only access")
    if write:
        # An audit line for every state-changing call: who (PAM user, client certificate) did what.
        tls = request.scope.get("extensions", {}).get("tls") or {}
        _audit.info(
            "%s %s by user=%s client=%s from %s",
            request.method,
            request.url.path,
            principal.user,
            tls.get("client_cert_name") or "-",
            source,
        )
    return principal


async def reader(request: Request) -> Principal:
    """Any authenticated user (admin or read-only group)."""
    return await _principal(request, write=False)


async def admin(request: Request) -> Principal:
    """An authenticated user of the admin group."""
    return await _principal(request, write=True)
