"""Health, version, host, config, metrics and host-wide operations (graceful shutdown, recovery)."""

from __future__ import annotations

import dataclasses
import time
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _package_version
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from switchboard.agent.api import render
from switchboard.agent.api.deps import AgentContext, admin, context, reader
from switchboard.agent.errors import Conflict
from switchboard.agent.hostinfo import host_summary
from switchboard.agent.metrics import CONTENT_TYPE
from switchboard.agent.names import validate_vm_name

__all__ = ["VERSION", "public", "router"]

public = APIRouter()
router = APIRouter(prefix="/v1")
Agent = Annotated[AgentContext, Depends(context)]


def _version() -> str:
    """The installed version: the agent's own package on a host, the whole project elsewhere."""
    for distribution in ("switchboard-agent", "switchboard"):
        try:
            return _package_version(distribution)
        except PackageNotFoundError:
            continue
    return "0+unknown"  # running from a source tree without metadata


VERSION = _version()
_HEALTHY = {"status": "healthy", "message": "Firecracker Agent is running"}


@public.get("/healthz", summary="Liveness (unauthenticated; reveals nothing)")
def healthz() -> dict[str, str]:
    return _HEALTHY


@public.get("/", summary="Root (unauthenticated)")
def root() -> dict[str, str]:
    return {"status": "ok", "message": "Firecracker Agent"}


@public.get("/v1/ui/config", summary="The original's UI settings (this agent has no UI)")
def ui_config() -> dict[str, Any]:
    return {"status": "success", "config": {"enabled": False, "session_timeout_seconds": 0}}


@public.get("/metrics", dependencies=[Depends(reader)], summary="Prometheus metrics (text format)")
def metrics(agent: Agent) -> Response:
    return Response(agent.metrics.render(), media_type=CONTENT_TYPE)


@router.get("", dependencies=[Depends(reader)])
def index(request: Request) -> dict[str, Any]:
    paths = request.app.openapi()["paths"]
    endpoints = sorted(f"{method.upper()} {path}" for path, ops in paths.items() for method in ops)
    return {"status": "success", "message": "Firecracker Agent API", "version": VERSION, "endpoints": endpoints}


@router.get("/version", dependencies=[Depends(reader)])
def version(agent: Agent) -> dict[str, str]:
    return {"version": VERSION, "name": "Switchboard Firecracker Agent", "vmm": agent.service.rt.vmm.name}


@router.get("/health", dependencies=[Depends(reader)])
def health() -> dict[str, str]:
    return _HEALTHY


@router.get("/config/effective", dependencies=[Depends(reader)])
def effective_config(agent: Agent) -> dict[str, Any]:
    return {"status": "success", "config": agent.config.effective_defaults()}


@router.get("/host/summary", dependencies=[Depends(reader)])
def host(agent: Agent) -> dict[str, Any]:
    return {"status": "success", "host": host_summary()}


@router.post("/graceful-shutdown", dependencies=[Depends(admin)], summary="Stop every VM for a host shutdown")
def graceful_shutdown(agent: Agent) -> dict[str, Any]:
    """Stops the reconcile loop, then shuts every running VM down gracefully. VMs meant to run are booted
    again by the next agent process (after the host or the agent restarts)."""
    agent.reconciler.stop()
    stopped = agent.service.shutdown_all()
    return {"status": "success", "message": "All VMs shut down gracefully", "stopped": stopped}


@router.post("/save-states", dependencies=[Depends(admin)], summary="No-op: state is always persisted")
def save_states() -> dict[str, str]:
    return {"status": "success", "message": "VM states saved successfully"}


@router.get("/saved-states", dependencies=[Depends(reader)])
def saved_states(agent: Agent) -> dict[str, Any]:
    states = agent.service.power_states()
    vm_states = {
        r.name: {
            "name": r.name,
            "status": states.get(r.name, r.observed).wire(),
            "desired_state": r.desired.value,
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(r.updated_at)),
            "config_file": str(agent.service.rt.store.path(r.name)),
        }
        for r in agent.service.list()
    }
    return {"status": "success", "message": f"Found {len(vm_states)} saved VM states", "vm_states": vm_states}


@router.post("/recover-all", dependencies=[Depends(admin)], summary="Run a reconcile pass now")
def recover_all(agent: Agent) -> dict[str, Any]:
    report = agent.reconciler.run_once()
    return {"status": "success", "message": "Recovery pass finished", "report": dataclasses.asdict(report)}


@router.get("/network-config/{name}", dependencies=[Depends(reader)])
def network_config(agent: Agent, name: str) -> dict[str, Any]:
    record = agent.service.get(validate_vm_name(name))
    return {"status": "success", "vm_name": name, "network_config": render.network_config(agent, record)}


@router.post("/network-config/{name}/apply", dependencies=[Depends(admin)])
def network_apply(agent: Agent, name: str) -> dict[str, Any]:
    agent.service.recover_network(validate_vm_name(name))
    return {"status": "success", "message": f"Network configuration applied for VM {name}", "vm_name": name}


@router.delete("/network-config/{name}", dependencies=[Depends(admin)])
def network_delete(agent: Agent, name: str) -> dict[str, Any]:
    agent.service.get(validate_vm_name(name))
    raise Conflict(f"the network configuration of VM {name} is part of its state; delete the VM to remove it")
