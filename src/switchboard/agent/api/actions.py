"""Action-style routes: `POST /v1/<action>` with the VM named in the body, for callers that map CloudStack
actions one to one (`create`, `start`, `stop`, `reboot`, `delete`, `status`, `statuses`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from switchboard.agent.api import vms
from switchboard.agent.api.deps import AgentContext, admin, context, reader
from switchboard.agent.api.schemas import ActionBody, CreateBody, StartBody, StopBody
from switchboard.agent.errors import InvalidRequest
from switchboard.agent.names import validate_vm_name
from switchboard.agent.payload import payload_vm_name

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["actions"])
Agent = Annotated[AgentContext, Depends(context)]


def _name(body: ActionBody) -> str:
    name = body.vm_name or body.name or (payload_vm_name(body.spec) if body.spec else None)
    if not name:
        raise InvalidRequest("name the VM with vm_name (or name, or a spec)")
    return validate_vm_name(name)


@router.post("/create", dependencies=[Depends(admin)], summary="Create and boot the VM in `spec`")
def create(agent: Agent, body: CreateBody) -> JSONResponse:
    return vms.create_vm(agent, body)


@router.post("/start", dependencies=[Depends(admin)])
def start(agent: Agent, body: ActionBody) -> dict[str, Any]:
    return vms.start(
        agent, _name(body), StartBody(spec=body.spec, timeout=body.timeout, ssh_public_key=body.ssh_public_key)
    )


@router.post("/stop", dependencies=[Depends(admin)])
def stop(agent: Agent, body: ActionBody) -> dict[str, Any]:
    return vms.stop(agent, _name(body), StopBody(timeout=body.timeout, force=body.force))


@router.post("/reboot", dependencies=[Depends(admin)])
def reboot(agent: Agent, body: ActionBody) -> dict[str, Any]:
    return vms.reboot(agent, _name(body))


@router.post("/delete", dependencies=[Depends(admin)])
def delete(agent: Agent, body: ActionBody) -> dict[str, Any]:
    return vms.delete(agent, _name(body))


@router.post("/status", dependencies=[Depends(reader)])
def status(agent: Agent, body: ActionBody) -> dict[str, Any]:
    return vms.status(agent, _name(body))


@router.post("/statuses", dependencies=[Depends(reader)], summary="Bulk power state (CloudStack `statuses`)")
def statuses(agent: Agent) -> dict[str, Any]:
    return vms.bulk_status(agent)
