"""Changing an instance: updateVirtualMachine; and the changes CloudStack refuses for External instances
(scaleVirtualMachine, restoreVirtualMachine, resetSSHKeyForVirtualMachine, resetUserDataForVirtualMachine),
refused with CloudStack's code and text — inside the job for the async ones, as CloudStack does.

updateVirtualMachine takes effect at the instance's next start (CloudStack's words: the VM has to be stopped
and restarted). Unlike CloudStack, `details` are merged into the instance's details rather than replacing
them all; `cleanupdetails` leaves the extension's `External:` details; and the details Switchboard keeps
(`deployvm`, the key pairs' `SSH.*`) cannot be set or cleaned up here: losing them would cut the instance
off from what its extension knows of it. (Details a `prepare` returned without the prefix are not told
apart from others: an administrator's cleanup removes them, as CloudStack's does.)
"""

from __future__ import annotations

from sqlalchemy import delete, select

from switchboard.api.audit import audit
from switchboard.api.call import Call
from switchboard.api.commands.instances import VM, _owned, _owned_instance
from switchboard.api.commands.userdata import user_data_of_call
from switchboard.api.done_jobs import refused
from switchboard.api.params import Param, ParamType
from switchboard.api.registry import api_command
from switchboard.api.responses import AsyncJobRequest, ObjectResponse
from switchboard.api.views.instances import VIRTUAL_MACHINE, instance_response
from switchboard.compute.deploy import DEPLOY_VM, SSH_KEYPAIR_NAMES, SSH_PUBLIC_KEY, valid_hostname
from switchboard.db.models.compute import Instance, InstanceDetail, InstanceState
from switchboard.db.models.guest_data import InstanceUserData, UserData
from switchboard.db.models.infrastructure import EXTERNAL_PREFIX, ServiceOffering, Template
from switchboard.errors import InvalidParameter
from switchboard.infra import userdata
from switchboard.roles import ALL_ROLES

# CloudStack's user.vm.denied.details and user.vm.readonly.details defaults: users may not set these.
_DENIED = frozenset({"rootdisksize", "cpuOvercommitRatio", "memoryOvercommitRatio",
                     "Message.ReservedCapacityFreed.Flag"})
_READ_ONLY = frozenset({"dataDiskController", "rootDiskController"})
# Kept by Switchboard itself: nobody sets or cleans these up through updateVirtualMachine.
_KEPT = frozenset({DEPLOY_VM, SSH_PUBLIC_KEY, SSH_KEYPAIR_NAMES})


def _unsupported(name: str) -> str:
    return f"Operation not supported for instance: {name}"


@api_command(
    "updateVirtualMachine",
    params=[
        Param("id", ParamType.UUID, required=True, description="The ID of the virtual machine"),
        Param("displayname", description="user generated name"),
        Param("name", description="new host name of the vm. The VM has to be stopped/started for this update to "
              "take affect", since="4.4"),
        Param("haenable", ParamType.BOOLEAN, description="true if high-availability is enabled for the virtual "
              "machine, false otherwise"),
        Param("isdynamicallyscalable", ParamType.BOOLEAN, description="true if VM contains XS/VMWare tools inorder "
              "to support dynamic scaling of VM cpu/memory"),
        Param("details", ParamType.MAP, description="Details in key/value pairs (merged into the instance's)"),
        Param("cleanupdetails", ParamType.BOOLEAN, description="optional boolean field, which indicates if details "
              "should be cleaned up or not (if set to true, details removed for this resource, details field "
              "ignored; if false or not set, no action)"),
        Param("userdata", description="an optional binary data that can be sent to the virtual machine upon a "
              "successful deployment (base64)", length=1048576),
        Param("userdataid", ParamType.UUID, description="the ID of the userdata", since="4.18"),
        Param("userdatadetails", ParamType.MAP, description="used to specify the parameters values for the "
              "variables in userdata.", since="4.18"),
    ],
    roles=ALL_ROLES,
    description="Updates properties of a virtual machine. The VM has to be stopped and restarted for the new "
                "properties to take effect.",
    response=VIRTUAL_MACHINE,
)
def update_virtual_machine(call: Call) -> ObjectResponse:
    instance = _owned_instance(call)
    if instance.state in (InstanceState.ERROR.value, InstanceState.EXPUNGING.value):
        raise InvalidParameter(f"Vm {instance.name} is not in the right state", parameter="id", uuids=[instance.uuid])
    changed = _update_fields(call, instance)
    changed |= _update_details(call, instance)
    changed |= _update_user_data(call, instance)
    call.session.flush()
    if changed:
        audit(call, "VM.UPDATE", f"Updated instance {instance.name}", resource_type=VM, resource_uuid=instance.uuid)
    return ObjectResponse("virtualmachine", instance_response(call.session, instance.uuid, admin=call.who.is_admin))


def _update_fields(call: Call, instance: Instance) -> bool:
    changed = False
    if call.get("displayname") is not None:
        instance.display_name, changed = call.get("displayname"), True
    if call.get("name") is not None and call.get("name") != instance.name:
        instance.name, changed = valid_hostname(call.get("name")), True
    if call.get("haenable") is not None:
        offer_ha = call.session.scalar(select(ServiceOffering.offer_ha)
                                       .where(ServiceOffering.id == instance.service_offering_id))
        if call.get("haenable") and not offer_ha:
            raise InvalidParameter("Can't enable ha for the vm as it's created from the Service offering having HA "
                                   "disabled", parameter="haenable")
        instance.ha_enabled, changed = call.get("haenable"), True
    if call.get("isdynamicallyscalable") is not None:
        if call.get("isdynamicallyscalable"):
            template = call.session.get_one(Template, instance.template_id)
            offering = call.session.get_one(ServiceOffering, instance.service_offering_id)
            if not template.dynamically_scalable:
                raise InvalidParameter("Dynamic Scaling cannot be enabled for the VM since its template does not "
                                       "have dynamic scaling enabled", parameter="isdynamicallyscalable")
            if not offering.dynamic_scaling_enabled:
                raise InvalidParameter("Dynamic Scaling cannot be enabled for the VM since its service offering "
                                       "does not have dynamic scaling enabled", parameter="isdynamicallyscalable")
        instance.dynamically_scalable, changed = call.get("isdynamicallyscalable"), True
    return changed


def _update_details(call: Call, instance: Instance) -> bool:
    session = call.session
    if call.get("cleanupdetails"):
        kept = _KEPT | (frozenset() if call.who.is_admin else _DENIED | _READ_ONLY)
        session.execute(delete(InstanceDetail).where(InstanceDetail.instance_id == instance.id,
                                                     InstanceDetail.display.is_(True),
                                                     InstanceDetail.name.not_in(kept),
                                                     InstanceDetail.name.not_like(f"{EXTERNAL_PREFIX}%")))
        return True
    given = call.map_param("details")
    if not given:
        return False
    for name in given:
        if name in _KEPT or (not call.who.is_admin and name in _READ_ONLY):
            raise InvalidParameter(f"You're not allowed to add or edit the read-only setting: {name}",
                                   parameter="details")
        if not call.who.is_admin and name in _DENIED:
            raise InvalidParameter(f"You're not allowed to add or edit the restricted setting: {name}",
                                   parameter="details")
    existing = {row.name: row for row in session.scalars(
        select(InstanceDetail).where(InstanceDetail.instance_id == instance.id, InstanceDetail.name.in_(list(given))))}
    for name, value in given.items():
        row = existing.get(name)
        if row is not None and not row.display:
            raise InvalidParameter(f"You're not allowed to add or edit the non-displayable setting: {name}",
                                   parameter="details")
        if row is None:
            session.add(InstanceDetail(instance_id=instance.id, name=name, value=value))
        else:
            row.value = value
    return True


def _update_user_data(call: Call, instance: Instance) -> bool:

    def may_use(registered: UserData) -> None:
        if registered.account_id != instance.account_id:
            raise InvalidParameter("The user data belongs to another account than the instance",
                                   parameter="userdataid")

    content, registered_id = user_data_of_call(call, may_use)
    details = call.map_param("userdatadetails")
    if content is None and details is None:
        return False
    row = call.session.get(InstanceUserData, instance.id)
    if row is None:
        row = InstanceUserData(instance_id=instance.id)
        call.session.add(row)
    if content is not None:
        row.content, row.user_data_id = content, registered_id
    if details is not None:
        row.details = userdata.details_text(details)
    return True


@api_command(
    "scaleVirtualMachine",
    params=[
        Param("id", ParamType.UUID, required=True, description="The ID of the virtual machine"),
        Param("serviceofferingid", ParamType.UUID, required=True, description="the ID of the service offering for "
              "the virtual machine"),
        Param("details", ParamType.MAP, description="name value pairs of custom parameters for cpu, memory and "
              "cpunumber. example details[i].name=value"),
    ],
    roles=ALL_ROLES,
    description="Scales the virtual machine to a new service offering (not supported for External instances).",
    response=VIRTUAL_MACHINE,
    is_async=True,
)
def scale_virtual_machine(call: Call) -> AsyncJobRequest:
    instance = _owned(call)
    return refused(_unsupported(instance.name), uuid=instance.uuid, instance_type=VM)


@api_command(
    "restoreVirtualMachine",
    params=[
        Param("virtualmachineid", ParamType.UUID, required=True, description="Virtual Machine ID"),
        Param("templateid", ParamType.UUID, description="an optional template Id to restore vm from the new "
              "template"),
    ],
    roles=ALL_ROLES,
    description="Restore a VM to original template/ISO or new template/ISO (not supported for External "
                "instances).",
    response=VIRTUAL_MACHINE,
    is_async=True,
    since="3.0.0",
)
def restore_virtual_machine(call: Call) -> AsyncJobRequest:
    instance = _owned(call, parameter="virtualmachineid")
    return refused(_unsupported(instance.name), uuid=instance.uuid, instance_type=VM)


@api_command(
    "resetSSHKeyForVirtualMachine",
    params=[
        Param("id", ParamType.UUID, required=True, description="The ID of the virtual machine"),
        Param("keypair", description="name of the ssh key pair used to login to the virtual machine"),
        Param("keypairs", ParamType.LIST, item_type=ParamType.STRING, description="names of the ssh key pairs to be "
              "used to login to the virtual machine", since="4.17"),
        Param("account", description="an optional account for the ssh key. Must be used with domainId."),
        Param("domainid", ParamType.UUID, description="an optional domainId for the virtual machine"),
        Param("projectid", ParamType.UUID, description="an optional project for the ssh key"),
    ],
    roles=ALL_ROLES,
    description="Resets the SSH Key for virtual machine (not supported for External instances).",
    response=VIRTUAL_MACHINE,
    is_async=True,
)
def reset_ssh_key(call: Call) -> AsyncJobRequest:
    instance = _owned(call)
    return refused(_unsupported(instance.name), uuid=instance.uuid, instance_type=VM)


@api_command(
    "resetUserDataForVirtualMachine",
    params=[
        Param("id", ParamType.UUID, required=True, description="The ID of the virtual machine"),
        Param("userdata", description="an optional binary data that can be sent to the virtual machine",
              length=1048576),
        Param("userdataid", ParamType.UUID, description="the ID of the userdata"),
        Param("userdatadetails", ParamType.MAP, description="used to specify the parameters values for the "
              "variables in userdata."),
    ],
    roles=ALL_ROLES,
    description="Resets the UserData for virtual machine (not supported for External instances).",
    response=VIRTUAL_MACHINE,
    since="4.18.0",
)
def reset_user_data(call: Call) -> ObjectResponse:
    instance = _owned(call)
    raise InvalidParameter(_unsupported(instance.name), parameter="id")
