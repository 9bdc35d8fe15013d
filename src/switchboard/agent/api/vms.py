"""Resource-style VM routes, wire-compatible with the original agent (`/v1/vms...`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse

from switchboard.agent.api import render
from switchboard.agent.api.deps import AgentContext, admin, context, reader
from switchboard.agent.api.schemas import (
    BulkStatusReply,
    CreateBody,
    ListReply,
    MessageReply,
    SnapshotBody,
    StartBody,
    StatusReply,
    StopBody,
)
from switchboard.agent.names import validate_vm_name
from switchboard.agent.payload import guest_data_from_payload, spec_from_payload

__all__ = ["router"]

router = APIRouter(prefix="/v1")
Agent = Annotated[AgentContext, Depends(context)]
Reader = [Depends(reader)]
Admin = [Depends(admin)]
_CONSOLE_MAX = 8 * 1024 * 1024


def _ok(message: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"status": "success", "message": message, "vm_name": name, **extra}


def create_vm(agent: AgentContext, body: CreateBody) -> JSONResponse:
    spec = spec_from_payload(body.spec)
    guest = guest_data_from_payload(body.spec, ssh_public_key=body.ssh_public_key)
    record, created = agent.service.create(spec, guest)
    if created:
        message = f"VM {record.name} created and started successfully"
    else:
        message = f"VM {record.name} already exists with the same spec"
    return JSONResponse(_ok(message, record.name, created=created), status_code=201 if created else 200)


@router.post("/vms", dependencies=Admin, status_code=201, summary="Create and boot a VM (idempotent)")
def create(agent: Agent, body: CreateBody) -> JSONResponse:
    return create_vm(agent, body)


@router.get("/vms", dependencies=Reader, summary="List VMs", response_model=ListReply)
def list_vms(agent: Agent) -> dict[str, Any]:
    records = agent.service.list()
    states = agent.service.power_states()
    vms = [render.list_item(agent, r, states[r.name]) for r in records if r.name in states]
    return {"status": "success", "message": f"Found {len(vms)} VMs", "count": len(vms), "vms": vms}


@router.get(
    "/vms/status", dependencies=Reader, summary="Power state of every VM in one call", response_model=BulkStatusReply
)
def bulk_status(agent: Agent) -> dict[str, Any]:
    states = agent.service.power_states()
    return {
        "status": "success",
        "power_state": {name: state.wire() for name, state in states.items()},
        "state": {name: state.value for name, state in states.items()},
    }


@router.get(
    "/vms/{name}/status",
    dependencies=Reader,
    summary="Power state of one VM (poweroff if unknown)",
    response_model=StatusReply,
)
def status(agent: Agent, name: str) -> dict[str, Any]:
    state = agent.service.power_state(validate_vm_name(name))
    return {"status": "success", "vm_name": name, "power_state": state.wire(), "state": state.value}


@router.get("/vms/{name}/details", dependencies=Reader, summary="Everything recorded about one VM")
def details(agent: Agent, name: str) -> dict[str, Any]:
    record = agent.service.get(validate_vm_name(name))
    return render.details(agent, record, agent.service.power_state(name))


@router.post(
    "/vms/{name}/start",
    dependencies=Admin,
    summary="Boot a VM; with a spec, create it if unknown",
    response_model=MessageReply,
)
def start(agent: Agent, name: str, body: StartBody | None = None) -> dict[str, Any]:
    validate_vm_name(name)
    spec = spec_from_payload(body.spec, name=name) if body is not None and body.spec else None
    guest = None
    if body is not None and (body.spec or body.ssh_public_key):
        guest = guest_data_from_payload(body.spec or {}, name=name, ssh_public_key=body.ssh_public_key)
    agent.service.start(name, spec, guest)
    return _ok(f"VM {name} started successfully", name)


@router.post(
    "/vms/{name}/stop", dependencies=Admin, summary="Graceful stop (idempotent)", response_model=MessageReply
)
def stop(agent: Agent, name: str, body: StopBody | None = None) -> dict[str, Any]:
    record = agent.service.stop(validate_vm_name(name), force=bool(body and body.force))
    note = "" if record is not None else " (not known on this host)"
    return _ok(f"VM {name} stopped{note}", name)


@router.post(
    "/vms/{name}/reboot", dependencies=Admin, summary="Graceful shutdown and boot", response_model=MessageReply
)
def reboot(agent: Agent, name: str) -> dict[str, Any]:
    agent.service.reboot(validate_vm_name(name))
    return _ok(f"VM {name} rebooted successfully", name)


@router.delete(
    "/vms/{name}", dependencies=Admin, summary="Delete a VM and its disks (idempotent)", response_model=MessageReply
)
def delete(agent: Agent, name: str) -> dict[str, Any]:
    existed = agent.service.delete(validate_vm_name(name))
    return _ok(f"VM {name} deleted successfully" if existed else f"VM {name} did not exist", name)


@router.post(
    "/vms/{name}/pause", dependencies=Admin, summary="Freeze the guest", response_model=MessageReply
)
def pause(agent: Agent, name: str) -> dict[str, Any]:
    record = agent.service.pause(validate_vm_name(name))
    return _ok(f"VM {name} paused", name, state=record.observed.value)


@router.post(
    "/vms/{name}/resume", dependencies=Admin, summary="Unfreeze the guest", response_model=MessageReply
)
def resume(agent: Agent, name: str) -> dict[str, Any]:
    record = agent.service.resume(validate_vm_name(name))
    return _ok(f"VM {name} resumed", name, state=record.observed.value)


@router.post("/vms/{name}/recover", dependencies=Admin, summary="Re-create the VM's host network devices")
def recover(agent: Agent, name: str) -> dict[str, Any]:
    agent.service.recover_network(validate_vm_name(name))
    return {"status": "success", "message": f"Recovered networking for VM {name}", "vm_name": name}


@router.post("/vms/{name}/console", dependencies=Admin, summary="Open (or reuse) the VM's VNC console")
def console_open(agent: Agent, name: str) -> dict[str, Any]:
    """A VNC server on the VM's serial console: host, port and an 8-character password (VNC auth)."""
    info, password = agent.service.open_console(validate_vm_name(name))
    return _ok(
        f"VNC console ready for VM {name}",
        name,
        host=info.host,
        port=info.port,
        password=password,
        created_at=info.created_at,
    )


@router.delete("/vms/{name}/console", dependencies=Admin, summary="Stop the VM's VNC console (idempotent)")
def console_close(agent: Agent, name: str) -> dict[str, Any]:
    agent.service.close_console(validate_vm_name(name))
    return _ok(f"VNC console stopped for {name}", name)


@router.get("/vms/{name}/console/log", dependencies=Reader, summary="The guest's serial console log")
def console_log(
    agent: Agent,
    name: str,
    tail_bytes: Annotated[int, Query(ge=0, le=_CONSOLE_MAX)] = 65536,
    offset: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    """Plain text. Without `offset`: the last `tail_bytes`. With `offset`: from that byte on (at most 8 MiB),
    for following the log; `X-Console-Size` gives the log's total size to pass as the next offset."""
    agent.service.get(validate_vm_name(name))
    path = agent.service.rt.paths.console_log(name)
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, 2)
            start = max(0, size - tail_bytes) if offset is None else min(offset, size)
            handle.seek(start)
            data = handle.read(_CONSOLE_MAX)
    except FileNotFoundError:
        size, start, data = 0, 0, b""
    headers = {"X-Console-Size": str(size), "X-Console-Offset": str(start)}
    return Response(data, media_type="text/plain; charset=utf-8", headers=headers)


@router.get("/vms/{name}/snapshots", dependencies=Reader, summary="List the VM's snapshots")
def snapshots(agent: Agent, name: str) -> dict[str, Any]:
    infos = agent.snapshots.list(validate_vm_name(name))
    return {"status": "success", "vm_name": name, "snapshots": [render.snapshot(i) for i in infos]}


@router.post("/vms/{name}/snapshots", dependencies=Admin, status_code=201, summary="Snapshot a running VM")
def snapshot_create(agent: Agent, name: str, body: SnapshotBody | None = None) -> dict[str, Any]:
    info = agent.snapshots.create(validate_vm_name(name), body.name if body else None)
    return {"status": "success", "vm_name": name, "snapshot": render.snapshot(info)}


@router.post("/vms/{name}/snapshots/{snapshot}/restore", dependencies=Admin, summary="Restore a snapshot")
def snapshot_restore(agent: Agent, name: str, snapshot: str) -> dict[str, Any]:
    agent.snapshots.restore(validate_vm_name(name), snapshot)
    return _ok(f"VM {name} restored from snapshot {snapshot}", name)


@router.delete("/vms/{name}/snapshots/{snapshot}", dependencies=Admin, summary="Delete a snapshot")
def snapshot_delete(agent: Agent, name: str, snapshot: str) -> dict[str, Any]:
    existed = agent.snapshots.delete(validate_vm_name(name), snapshot)
    return _ok(f"snapshot {snapshot} deleted" if existed else f"snapshot {snapshot} did not exist", name)

