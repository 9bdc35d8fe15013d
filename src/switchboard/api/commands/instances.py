"""Instance commands: deployVirtualMachine, start/stop/reboot/destroy/expungeVirtualMachine (async),
recoverVirtualMachine and listVirtualMachines. Responses use CloudStack's UserVmResponse field names; the
VNC password never appears in them.

The handlers check what can be checked at once (existence, ownership, state) and queue a job; the job
handlers (registered by switchboard.wiring.compute under the names below) do the work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from switchboard.api.call import Call
from switchboard.api.caller import Caller
from switchboard.api.commands.infra_common import linker, listing, map_param, page_of, without_none
from switchboard.api.params import MapValue, Param, ParamType, format_date
from switchboard.api.registry import api_command
from switchboard.api.responses import AsyncJobRequest, ListResponse, ObjectResponse
from switchboard.compute.deploy import DeploySpec, create_instance
from switchboard.compute.lifecycle import Lifecycle
from switchboard.compute.queries import InstanceFilter, InstanceRecord, get_record, list_instances
from switchboard.compute.records import DEPLOY_VM
from switchboard.compute.rows import get_instance, not_found
from switchboard.compute.vnc import new_vnc_password
from switchboard.db.models.compute import Instance, InstanceState
from switchboard.db.models.identity import Domain
from switchboard.errors import InvalidParameter, PermissionDenied
from switchboard.identity.scope import check_account
from switchboard.infra import hosts, networks, offerings, templates, zones
from switchboard.infra.owners import resolve_owner
from switchboard.jobs import JobOwner
from switchboard.roles import ALL_ROLES, RoleType
from switchboard.services import Services

LIFECYCLE_SERVICE = "compute.lifecycle"
DEPLOY_JOB = "compute.deploy"
START_JOB = "compute.start"
STOP_JOB = "compute.stop"
REBOOT_JOB = "compute.reboot"
DESTROY_JOB = "compute.destroy"
EXPUNGE_JOB = "compute.expunge"
JOB_NAMES = (DEPLOY_JOB, START_JOB, STOP_JOB, REBOOT_JOB, DESTROY_JOB, EXPUNGE_JOB)
VM = "VirtualMachine"
# CloudStack lets only admins expunge and recover unless allow.user.expunge.recover.vm is set.
EXPUNGE_ROLES = frozenset({RoleType.ADMIN, RoleType.DOMAIN_ADMIN, RoleType.RESOURCE_ADMIN})
# Details that are the server's bookkeeping, not the instance's description.
_INTERNAL_DETAILS = frozenset({DEPLOY_VM})


def lifecycle_of(services: Services) -> Lifecycle:
    service = services.get(LIFECYCLE_SERVICE)
    if not isinstance(service, Lifecycle):
        raise LookupError(f"the {LIFECYCLE_SERVICE!r} service is not a Lifecycle")
    return service


def nic_view(nic: Any) -> dict[str, Any]:
    return without_none({
        "id": nic.uuid, "networkid": nic.network_uuid, "networkname": nic.network_name, "macaddress": nic.mac,
        "ipaddress": nic.ip, "netmask": nic.netmask, "gateway": nic.gateway, "ip6address": nic.ip6_address,
        "broadcasturi": nic.broadcast_uri, "isolationuri": nic.isolation_uri, "traffictype": nic.traffic_type,
        "type": nic.guest_type, "isdefault": nic.is_default, "deviceid": str(nic.device_id),
    })


def instance_view(record: InstanceRecord, *, admin: bool) -> dict[str, Any]:
    """CloudStack's UserVmResponse for one instance; host fields and the internal name for admins only."""
    row = record.row
    fields: dict[str, Any] = {
        "id": row.uuid,
        "name": row.name,
        "displayname": row.display_name,
        "account": row.account_name,
        "accountid": row.account_uuid,
        "domainid": row.domain_uuid,
        "domain": row.domain_name,
        "created": format_date(row.created),
        "state": row.state,
        "haenable": row.ha_enabled,
        "zoneid": row.zone_uuid,
        "zonename": row.zone_name,
        "templateid": row.template_uuid,
        "templatename": row.template_name,
        "templatedisplaytext": row.template_display_text,
        "passwordenabled": row.template_password_enabled,
        "serviceofferingid": row.offering_uuid,
        "serviceofferingname": row.offering_name,
        "cpunumber": row.cpus,
        "cpuspeed": row.speed,
        "memory": row.memory,
        "hypervisor": "External",
        "arch": row.arch,
        "isdynamicallyscalable": row.dynamically_scalable,
        "powerstate": row.power_state,
        "lastupdated": format_date(row.state_changed),
        "nic": [nic_view(nic) for nic in record.nics],
        "details": {k: v for k, v in record.details.items() if k not in _INTERNAL_DETAILS},
        "extensionid": row.extension_uuid,
        "extensionname": row.extension_name,
        "tags": [],
        "affinitygroup": [],
        "securitygroup": [],
    }
    if admin:
        fields["instancename"] = row.instance_name
        if row.host_uuid is not None:
            fields["hostid"] = row.host_uuid
            fields["hostname"] = row.host_name
    return without_none(fields)


def render(caller: Caller, records: list[InstanceRecord], total: int) -> ListResponse:
    return listing("virtualmachine", records, total, lambda r: instance_view(r, admin=caller.is_admin))


def render_one(db: Session | Connection, uuid: str, *, admin: bool) -> dict[str, Any]:
    """The UserVmResponse of one instance (a job's result); includes instances just expunged."""
    record = get_record(db, uuid)
    return {"id": uuid} if record is None else instance_view(record, admin=admin)


@dataclass(frozen=True)
class _Owned:
    """What an instance command checks before it queues its job."""

    uuid: str
    name: str
    state: str


# Built once: every instance command reads its instance with the domain path its owner check needs.
_OWNED = (
    select(Instance.uuid, Instance.name, Instance.state, Instance.account_id, Domain.path)
    .join(Domain, Domain.id == Instance.domain_id)
    .where(Instance.uuid == bindparam("uuid"), Instance.removed.is_(None))
)


def _owned(call: Call, *, parameter: str = "id") -> _Owned:
    """The instance named by `id`, when the caller may act on it (NotFound / PermissionDenied otherwise)."""
    uuid = call.get(parameter)
    row = call.connection.execute(_OWNED, {"uuid": uuid}).first()
    if row is None:
        raise not_found(uuid, parameter)
    check_account(call.who, account_id=row.account_id, domain_path_stored=row.path)
    return _Owned(uuid=row.uuid, name=row.name, state=row.state)


def _owned_instance(call: Call, *, parameter: str = "id") -> Instance:
    """`_owned`, as the ORM object (for commands that change it in the request's transaction)."""
    _owned(call, parameter=parameter)
    return get_instance(call.session, call.get(parameter), parameter=parameter)


def _job(handler: str, uuid: str, **args: Any) -> AsyncJobRequest:
    return AsyncJobRequest(handler=handler, args={"id": uuid, **args}, instance_type=VM, instance_id=uuid,
                           object_id=uuid)


def _require_state(instance: _Owned, allowed: tuple[InstanceState, ...], what: str) -> None:
    if instance.state not in {s.value for s in allowed}:
        raise InvalidParameter(f"Unable to {what} instance {instance.name} in state {instance.state}",
                               parameter="id", uuids=[instance.uuid])


@api_command(
    "deployVirtualMachine",
    params=[
        Param("zoneid", ParamType.UUID, required=True, description="availability zone for the virtual machine"),
        Param("templateid", ParamType.UUID, required=True, description="the ID of the template for the instance"),
        Param("serviceofferingid", ParamType.UUID, required=True, description="the ID of the service offering"),
        Param("networkids", ParamType.LIST, item_type=ParamType.UUID, description="list of network ids used by "
              "the virtual machine"),
        Param("name", description="host name for the virtual machine"),
        Param("displayname", description="an optional user generated name for the virtual machine"),
        Param("externaldetails", ParamType.MAP, description="details in key/value pairs for the extension",
              since="4.21.0"),
        Param("details", ParamType.MAP, description="used to specify the custom parameters: cpuNumber, cpuSpeed, "
              "memory"),
        Param("startvm", ParamType.BOOLEAN, description="true by default: start the instance after deploying"),
        Param("hostid", ParamType.UUID, description="destination Host ID to deploy the VM to (admins only)"),
        Param("account", description="an optional account for the virtual machine; must be used with domainId"),
        Param("domainid", ParamType.UUID, description="an optional domainId for the virtual machine"),
    ],
    roles=ALL_ROLES,
    description="Creates and automatically starts an Instance based on a service offering and template.",
    response_object="virtualmachine",
    is_async=True,
)
def deploy_virtual_machine(call: Call) -> AsyncJobRequest:
    session, caller = call.session, call.who
    host_id: int | None = None
    if call.get("hostid") is not None:
        if not caller.is_admin:
            raise PermissionDenied("Parameter hostid can only be specified by a Root Admin")
        host_id = hosts.get_host(session, call.get("hostid"), parameter="hostid").id
    connection = call.connection
    template = templates.template_ref(connection, call.get("templateid"), parameter="templateid")
    if not (template.is_public or caller.is_admin):
        templates.check_owner(session, caller, template)
    spec = DeploySpec(
        zone=zones.zone_ref(connection, call.get("zoneid")),
        template=template,
        offering=offerings.service_offering_ref(connection, call.get("serviceofferingid")),
        networks=[networks.network_ref(connection, uuid, parameter="networkids")
                  for uuid in call.get("networkids") or []],
        name=call.get("name"), display_name=call.get("displayname"),
        external_details=map_param(call, "externaldetails") or {},
        details=call.get("details").flat() if isinstance(call.get("details"), MapValue) else {},
    )
    owner = resolve_owner(session, caller, account=call.get("account"), domain_uuid=call.get("domainid"))
    lifecycle = lifecycle_of(call.services)
    instance = create_instance(session, caller, owner, spec,
                               vnc_sealer=lambda uuid: lifecycle.seal_vnc(uuid, new_vnc_password()))
    return _job(DEPLOY_JOB, instance.uuid, start=call.get("startvm", True), hostid=host_id)


_ID = Param("id", ParamType.UUID, required=True, description="The ID of the virtual machine")


@api_command("startVirtualMachine", params=[_ID], roles=ALL_ROLES, description="Starts a virtual machine.",
             response_object="virtualmachine", is_async=True)
def start_virtual_machine(call: Call) -> AsyncJobRequest:
    instance = _owned(call)
    _require_state(instance, (InstanceState.STOPPED, InstanceState.RUNNING), "start")
    return _job(START_JOB, instance.uuid)


@api_command(
    "stopVirtualMachine",
    params=[_ID, Param("forced", ParamType.BOOLEAN, description="Force stop the VM: it is marked Stopped even "
                       "when the extension fails to stop it")],
    roles=ALL_ROLES, description="Stops a virtual machine.", response_object="virtualmachine", is_async=True,
)
def stop_virtual_machine(call: Call) -> AsyncJobRequest:
    instance = _owned(call)
    _require_state(instance, (InstanceState.STOPPED, InstanceState.RUNNING), "stop")
    return _job(STOP_JOB, instance.uuid, forced=bool(call.get("forced")))


@api_command("rebootVirtualMachine", params=[_ID], roles=ALL_ROLES, description="Reboots a virtual machine.",
             response_object="virtualmachine", is_async=True)
def reboot_virtual_machine(call: Call) -> AsyncJobRequest:
    instance = _owned(call)
    _require_state(instance, (InstanceState.RUNNING,), "reboot")
    return _job(REBOOT_JOB, instance.uuid)


@api_command(
    "destroyVirtualMachine",
    params=[_ID, Param("expunge", ParamType.BOOLEAN, description="If true is passed, the VM is expunged "
                       "immediately (Admins only)")],
    roles=ALL_ROLES, description="Destroys a virtual machine.", response_object="virtualmachine", is_async=True,
)
def destroy_virtual_machine(call: Call) -> AsyncJobRequest:
    instance = _owned(call)
    expunge = bool(call.get("expunge"))
    if expunge and call.who.role_type not in EXPUNGE_ROLES:
        raise PermissionDenied("Parameter expunge can be passed by Admin only")
    _require_state(instance, (InstanceState.STOPPED, InstanceState.RUNNING, InstanceState.ERROR,
                              InstanceState.DESTROYED), "destroy")
    return _job(DESTROY_JOB, instance.uuid, expunge=expunge)


@api_command("expungeVirtualMachine", params=[_ID], roles=EXPUNGE_ROLES,
             description="Expunge a virtual machine. Once expunged, it cannot be recovered.", is_async=True)
def expunge_virtual_machine(call: Call) -> AsyncJobRequest:
    instance = _owned(call)
    _require_state(instance, (InstanceState.DESTROYED,), "expunge")
    return _job(EXPUNGE_JOB, instance.uuid)


@api_command("recoverVirtualMachine", params=[_ID], roles=EXPUNGE_ROLES,
             description="Recovers a virtual machine (Destroyed → Stopped).", response_object="virtualmachine")
def recover_virtual_machine(call: Call) -> ObjectResponse:
    instance = _owned_instance(call)
    caller = call.who
    owner = JobOwner(user_id=caller.user_id, account_id=caller.account_id, domain_id=caller.domain_id)
    lifecycle_of(call.services).recover(call.session, instance, owner)
    return ObjectResponse("virtualmachine", render_one(call.session, instance.uuid,
                                                       admin=caller.is_admin))


@api_command(
    "listVirtualMachines",
    params=[
        Param("id", ParamType.UUID, description="the ID of the virtual machine"),
        Param("ids", ParamType.LIST, item_type=ParamType.UUID, description="the IDs of the virtual machines"),
        Param("name", description="name of the virtual machine"),
        Param("state", description="state of the virtual machine"),
        Param("zoneid", ParamType.UUID, description="the availability zone ID"),
        Param("templateid", ParamType.UUID, description="list by the template ID"),
        Param("hostid", ParamType.UUID, description="the host ID (admins only)"),
        Param("extensionid", ParamType.UUID, description="list by the extension of the template", since="4.21.0"),
        Param("account", description="list resources by account; must be used with domainId"),
        Param("domainid", ParamType.UUID, description="list only resources belonging to the domain specified"),
    ],
    roles=ALL_ROLES,
    description="List the virtual machines owned by the account.",
    response_object="virtualmachine",
    is_list=True,
)
def list_virtual_machines(call: Call) -> ListResponse:
    session, caller = call.session, call.who
    account_id = None
    if call.get("account") is not None or call.get("domainid") is not None:
        account_id = resolve_owner(session, caller, account=call.get("account"),
                                   domain_uuid=call.get("domainid")).account_id
    host_id = None
    if call.get("hostid") is not None and caller.is_admin:
        host_id = hosts.get_host(session, call.get("hostid"), parameter="hostid").id
    extension_id = None
    if call.get("extensionid") is not None:
        extension_id = linker(call).resolve(session, call.get("extensionid"), parameter="extensionid",
                                            purpose="instance").id
    filters = InstanceFilter(
        uuid=call.get("id"), uuids=tuple(call.get("ids") or ()), name=call.get("name"), state=call.get("state"),
        zone_id=zones.get_zone(session, call.get("zoneid")).id if call.get("zoneid") else None,
        template_id=templates.get_template(session, call.get("templateid"), parameter="templateid").id
        if call.get("templateid") else None,
        host_id=host_id, extension_id=extension_id, account_id=account_id, list_all=bool(call.get("listall")),
    )
    records, total = list_instances(session, caller, page_of(call), filters)
    return render(caller, records, total)
