"""Instance commands: deployVirtualMachine, start/stop/reboot/destroy/expungeVirtualMachine (async),
recoverVirtualMachine, listVirtualMachines and listNics. Responses use CloudStack's UserVmResponse field names; the
VNC password never appears in them.

The handlers check what can be checked at once (existence, ownership, state) and queue a job; the job
handlers (switchboard.compute.jobs) do the work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select

from switchboard.api.call import Call
from switchboard.api.commands.tags import TAGS_PARAM, tag_filter
from switchboard.api.deploy_params import DEPLOY_GUEST_PARAMS, data_disk, guest_data
from switchboard.api.owners import owner_of_call
from switchboard.api.paging import listing, page_of
from switchboard.api.params import MapValue, Param, ParamType
from switchboard.api.registry import api_command
from switchboard.api.responses import AsyncJobRequest, ListResponse, ObjectResponse, paginate
from switchboard.api.shapes import SUCCESS, Field, T
from switchboard.api.views.instances import (
    NIC,
    VIRTUAL_MACHINE,
    instance_response,
    instance_view,
    nic_view,
    show_user_data,
)
from switchboard.caller import Caller
from switchboard.compute import limits
from switchboard.compute.deploy import DeploySpec, create_instance
from switchboard.compute.instance_listing import InstanceFilter, InstanceRecord, list_instances
from switchboard.compute.instance_rows import get_instance, not_found
from switchboard.compute.jobs import DEPLOY_JOB, DESTROY_JOB, EXPUNGE_JOB, REBOOT_JOB, START_JOB, STOP_JOB
from switchboard.compute.vnc import new_vnc_password
from switchboard.db.models.compute import Instance, InstanceState
from switchboard.db.models.identity import Domain
from switchboard.errors import InvalidParameter, PermissionDenied
from switchboard.identity import projects
from switchboard.infra import hosts, networks, offerings, templates, userdata, zones
from switchboard.infra.nics import nic_views
from switchboard.jobs import JobOwner
from switchboard.roles import ALL_ROLES, RoleType

VM = "VirtualMachine"
# CloudStack lets only admins expunge and recover unless allow.user.expunge.recover.vm is set.
EXPUNGE_ROLES = frozenset({RoleType.ADMIN, RoleType.DOMAIN_ADMIN, RoleType.RESOURCE_ADMIN})


def render(caller: Caller, records: list[InstanceRecord], total: int) -> ListResponse:
    return listing("virtualmachine", records, total, lambda r: instance_view(r, admin=caller.is_admin))


@dataclass(frozen=True)
class _Owned:
    """What an instance command checks before it queues its job."""

    id: int
    uuid: str
    name: str
    state: str


# Built once: every instance command reads its instance with the domain path its owner check needs.
_OWNED = (
    select(Instance.id, Instance.uuid, Instance.name, Instance.state, Instance.account_id, Domain.path)
    .join(Domain, Domain.id == Instance.domain_id)
    .where(Instance.uuid == bindparam("uuid"), Instance.removed.is_(None))
)


def _owned(call: Call, *, parameter: str = "id") -> _Owned:
    """The instance named by `id`, when the caller may act on it (NotFound / PermissionDenied otherwise)."""
    uuid = call.get(parameter)
    row = call.connection.execute(_OWNED, {"uuid": uuid}).first()
    if row is None:
        raise not_found(uuid, parameter)
    projects.check_owner(call.session, call.who, account_id=row.account_id, domain_path_stored=row.path)
    return _Owned(id=row.id, uuid=row.uuid, name=row.name, state=row.state)


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
        *DEPLOY_GUEST_PARAMS,
    ],
    roles=ALL_ROLES,
    description="Creates and automatically starts an Instance based on a service offering and template.",
    response=VIRTUAL_MACHINE,
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
    owner = owner_of_call(call)
    spec = DeploySpec(
        zone=zones.zone_ref(connection, call.get("zoneid")),
        template=template,
        offering=offerings.service_offering_ref(connection, call.get("serviceofferingid")),
        networks=[networks.network_ref(connection, uuid, parameter="networkids")
                  for uuid in call.get("networkids") or []],
        name=call.get("name"), display_name=call.get("displayname"),
        external_details=call.map_param("externaldetails") or {},
        details=call.get("details").flat() if isinstance(call.get("details"), MapValue) else {},
        guest=guest_data(call, owner), root_disk_gb=call.get("rootdisksize"), data_disk=data_disk(call),
    )
    lifecycle = call.services.lifecycle
    instance = create_instance(session, caller, owner, spec,
                               vnc_sealer=lambda uuid: lifecycle.seal_vnc(uuid, new_vnc_password()),
                               recheck=lambda extension: call.services.extensions.recheck(session, extension),
                               guest_vlans=call.services.guest_vlans)
    return _job(DEPLOY_JOB, instance.uuid, start=call.get("startvm", True), hostid=host_id)


_ID = Param("id", ParamType.UUID, required=True, description="The ID of the virtual machine")


@api_command("startVirtualMachine", params=[_ID], roles=ALL_ROLES, description="Starts a virtual machine.",
             response=VIRTUAL_MACHINE, is_async=True)
def start_virtual_machine(call: Call) -> AsyncJobRequest:
    instance = _owned(call)
    _require_state(instance, (InstanceState.STOPPED, InstanceState.RUNNING), "start")
    limits.check_instance_size(call.session, instance.uuid)
    return _job(START_JOB, instance.uuid)


@api_command(
    "stopVirtualMachine",
    params=[_ID, Param("forced", ParamType.BOOLEAN, description="Force stop the VM: it is marked Stopped even "
                       "when the extension fails to stop it")],
    roles=ALL_ROLES, description="Stops a virtual machine.", response=VIRTUAL_MACHINE, is_async=True,
)
def stop_virtual_machine(call: Call) -> AsyncJobRequest:
    instance = _owned(call)
    _require_state(instance, (InstanceState.STOPPED, InstanceState.RUNNING), "stop")
    return _job(STOP_JOB, instance.uuid, forced=bool(call.get("forced")))


@api_command("rebootVirtualMachine", params=[_ID], roles=ALL_ROLES, description="Reboots a virtual machine.",
             response=VIRTUAL_MACHINE, is_async=True)
def reboot_virtual_machine(call: Call) -> AsyncJobRequest:
    instance = _owned(call)
    _require_state(instance, (InstanceState.RUNNING,), "reboot")
    return _job(REBOOT_JOB, instance.uuid)


@api_command(
    "destroyVirtualMachine",
    params=[_ID, Param("expunge", ParamType.BOOLEAN, description="If true is passed, the VM is expunged "
                       "immediately (Admins only)")],
    roles=ALL_ROLES, description="Destroys a virtual machine.", response=VIRTUAL_MACHINE, is_async=True,
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
             description="Expunge a virtual machine. Once expunged, it cannot be recovered.", response=SUCCESS,
             is_async=True)
def expunge_virtual_machine(call: Call) -> AsyncJobRequest:
    instance = _owned(call)
    _require_state(instance, (InstanceState.DESTROYED,), "expunge")
    return _job(EXPUNGE_JOB, instance.uuid)


@api_command("recoverVirtualMachine", params=[_ID], roles=EXPUNGE_ROLES,
             description="Recovers a virtual machine (Destroyed → Stopped).", response=VIRTUAL_MACHINE)
def recover_virtual_machine(call: Call) -> ObjectResponse:
    instance = _owned_instance(call)
    caller = call.who
    owner = JobOwner(user_id=caller.user_id, account_id=caller.account_id, domain_id=caller.domain_id)
    if instance.state == InstanceState.DESTROYED.value:  # it counts against the owner's limits again
        limits.check_new_instances(call.session, account_id=instance.account_id,
                                   wanted=limits.Amounts(1, instance.cpus, instance.memory))
    call.services.lifecycle.recover(call.session, instance, owner)
    return ObjectResponse("virtualmachine", instance_response(call.session, instance.uuid,
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
        Param("projectid", ParamType.UUID, description="list objects by project"),
        Param("keypair", description="list vms by ssh keypair name"),
        Param("userdataid", ParamType.UUID, description="the ID of the userdata the instances were deployed with",
              since="4.20.1"),
        Param("userdata", ParamType.BOOLEAN, description="Whether to return the VMs' user data or not. By default, "
              "user data will not be returned.", since="4.18.0.0"),
        TAGS_PARAM,
    ],
    roles=ALL_ROLES,
    description="List the virtual machines owned by the account.",
    response=VIRTUAL_MACHINE,
    is_list=True,
)
def list_virtual_machines(call: Call) -> ListResponse:
    session, caller = call.session, call.who
    account_id = None
    if call.get("account") is not None or call.get("domainid") is not None or call.get("projectid") is not None:
        account_id = owner_of_call(call).account_id
    host_id = None
    if call.get("hostid") is not None and caller.is_admin:
        host_id = hosts.get_host(session, call.get("hostid"), parameter="hostid").id
    extension_id = None
    if call.get("extensionid") is not None:
        extension_id = call.services.linker.resolve(session, call.get("extensionid"), parameter="extensionid",
                                            purpose="instance").id
    filters = InstanceFilter(
        uuid=call.get("id"), uuids=tuple(call.get("ids") or ()), name=call.get("name"), state=call.get("state"),
        zone_id=zones.get_zone(session, call.get("zoneid")).id if call.get("zoneid") else None,
        template_id=templates.get_template(session, call.get("templateid"), parameter="templateid").id
        if call.get("templateid") else None,
        host_id=host_id, extension_id=extension_id, account_id=account_id, list_all=bool(call.get("listall")),
        keypair=call.get("keypair"), tagged=tag_filter(call, "UserVm", Instance.id),
        user_data_id=userdata.get_user_data(session, call.get("userdataid")).id if call.get("userdataid") else None,
    )
    records, total = list_instances(session, caller, page_of(call), filters)
    response = render(caller, records, total)
    if call.get("userdata"):
        show_user_data(session, response.items)
    return response


# listNics shows each NIC with the instance it belongs to (an instance's own `nic` entries do not repeat it).
_LISTED_NIC = NIC.with_fields(Field("virtualmachineid", T.STRING, "Id of the vm to which the nic belongs"))


@api_command(
    "listNics",
    params=[
        Param("virtualmachineid", ParamType.UUID, required=True, description="the ID of the vm"),
        Param("nicid", ParamType.UUID, description="the ID of the nic to list IPs"),
        Param("networkid", ParamType.UUID, description="list nic of the specific vm's network"),
    ],
    roles=ALL_ROLES,
    description="list the vm nics  IP to NIC",
    response=_LISTED_NIC,
    is_list=True,
)
def list_nics(call: Call) -> ListResponse:
    instance = _owned(call, parameter="virtualmachineid")
    found = [nic for nic in nic_views(call.connection, [instance.id])[instance.id]
             if call.get("nicid") in (None, nic.uuid) and call.get("networkid") in (None, nic.network_uuid)]
    items = [{**nic_view(nic), "virtualmachineid": instance.uuid}
             for nic in paginate(found, page=call.page, pagesize=call.pagesize)]
    return ListResponse("nic", items, count=len(found))
