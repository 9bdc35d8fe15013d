"""CloudStack's UserVmResponse: an instance as listVirtualMachines and the instance jobs show it. The VNC
password never appears in it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from switchboard.api.params import format_date
from switchboard.api.shapes import Field, Shape, T
from switchboard.api.views.fields import EXTENSION_FIELDS, OWNER_FIELDS, TAGS_FIELD, without_none
from switchboard.compute.deploy import DEPLOY_VM, SSH_KEYPAIR_NAMES
from switchboard.compute.instance_listing import InstanceRecord, get_record, user_data_of
from switchboard.compute.jobs import InstanceResult
from switchboard.db.engine import Database
from switchboard.db.outage import until_available
from switchboard.identity import paths
from switchboard.jobs import JobContext

# Details that are the server's bookkeeping, not the instance's description.
_INTERNAL_DETAILS = frozenset({DEPLOY_VM})


NIC = Shape("nic", [
    Field("id", T.STRING, "the ID of the nic"),
    Field("networkid", T.STRING, "the ID of the corresponding network"),
    Field("networkname", T.STRING, "the name of the corresponding network"),
    Field("macaddress", T.STRING, "the MAC address of the nic"),
    Field("ipaddress", T.STRING, "the ip address of the nic"),
    Field("netmask", T.STRING, "the netmask of the nic"),
    Field("gateway", T.STRING, "the gateway of the nic"),
    Field("ip6address", T.STRING, "the IPv6 address of network"),
    Field("broadcasturi", T.STRING, "the broadcast uri of the nic"),
    Field("isolationuri", T.STRING, "the isolation uri of the nic"),
    Field("traffictype", T.STRING, "the traffic type of the nic"),
    Field("type", T.STRING, "the type of the nic"),
    Field("isdefault", T.BOOLEAN, "true if nic is default, false otherwise"),
    Field("deviceid", T.STRING, "device id for the network when plugged into the virtual machine"),
])


def nic_view(nic: Any) -> dict[str, Any]:
    return without_none({
        "id": nic.uuid, "networkid": nic.network_uuid, "networkname": nic.network_name, "macaddress": nic.mac,
        "ipaddress": nic.ip, "netmask": nic.netmask, "gateway": nic.gateway, "ip6address": nic.ip6_address,
        "broadcasturi": nic.broadcast_uri, "isolationuri": nic.isolation_uri, "traffictype": nic.traffic_type,
        "type": nic.guest_type, "isdefault": nic.is_default, "deviceid": str(nic.device_id),
    })


VIRTUAL_MACHINE = Shape("virtualmachine", [
    Field("id", T.STRING, "the ID of the virtual machine"),
    Field("name", T.STRING, "the name of the virtual machine"),
    Field("displayname", T.STRING, "user generated name. The name of the virtual machine is returned if no "
          "displayname exists."),
    *OWNER_FIELDS,
    Field("domainpath", T.STRING, "path of the domain in which the virtual machine exists"),
    Field("userid", T.STRING, "the user's ID who deployed the virtual machine"),
    Field("username", T.STRING, "the user's name who deployed the virtual machine"),
    Field("created", T.DATE, "the date when this virtual machine was created"),
    Field("lastupdated", T.DATE, "the date when this virtual machine was updated last time"),
    Field("state", T.STRING, "the state of the virtual machine"),
    Field("powerstate", T.STRING, "the power state of the virtual machine as last reported"),
    Field("haenable", T.BOOLEAN, "true if high-availability is enabled, false otherwise"),
    Field("displayvm", T.BOOLEAN, "an optional field whether to the display the vm to the end user or not."),
    Field("zoneid", T.STRING, "the ID of the availability zone for the virtual machine"),
    Field("zonename", T.STRING, "the name of the availability zone for the virtual machine"),
    Field("hostcontrolstate", T.STRING, "the control state of the host for the virtual machine"),
    Field("templateid", T.STRING, "the ID of the template for the virtual machine"),
    Field("templatename", T.STRING, "the name of the template for the virtual machine"),
    Field("templatedisplaytext", T.STRING, "an alternate display text of the template for the virtual machine"),
    Field("templatetype", T.STRING, "the type of the template for the virtual machine"),
    Field("templateformat", T.STRING, "the format of the template for the virtual machine"),
    Field("passwordenabled", T.BOOLEAN, "true if the password rest feature is enabled, false otherwise"),
    Field("ostypeid", T.STRING, "OS type id of the vm"),
    Field("osdisplayname", T.STRING, "OS name of the vm"),
    Field("guestosid", T.STRING, "Os type ID of the virtual machine"),
    Field("serviceofferingid", T.STRING, "the ID of the service offering of the virtual machine"),
    Field("serviceofferingname", T.STRING, "the name of the service offering of the virtual machine"),
    Field("cpunumber", T.INTEGER, "the number of vCPUs this virtual machine is using"),
    Field("cpuspeed", T.INTEGER, "the speed of each vCPU"),
    Field("memory", T.INTEGER, "the memory allocated for the virtual machine"),
    Field("hypervisor", T.STRING, "the hypervisor on which the template runs"),
    Field("arch", T.STRING, "CPU arch of the VM"),
    Field("isdynamicallyscalable", T.BOOLEAN, "true if vm contains XS/VMWare tools inorder to support dynamic "
          "scaling of VM cpu/memory."),
    Field("deleteprotection", T.BOOLEAN, "true if vm has delete protection."),
    Field("boottype", T.STRING, "Guest vm Boot Type"),
    Field("bootmode", T.STRING, "Guest vm Boot Mode"),
    Field("nic", T.SET, "the list of nics associated with vm", shape=NIC),
    Field("details", T.MAP, "Vm details in key/value pairs (for users: without the extension's details and "
          "those CloudStack denies users, user.vm.denied.details)."),
    Field("readonlydetails", T.STRING, "List of read-only Vm details as comma separated string."),
    *EXTENSION_FIELDS,
    TAGS_FIELD,
    Field("affinitygroup", T.SET, "list of affinity groups associated with the virtual machine"),
    Field("securitygroup", T.SET, "list of security groups associated with the virtual machine"),
    Field("keypairs", T.STRING, "ssh key-pairs"),
    Field("userdataid", T.STRING, "the id of userdata used for the VM"),
    Field("userdataname", T.STRING, "the name of userdata used for the VM"),
    Field("userdatadetails", T.STRING, "list of variables and values for the variables declared in userdata"),
    Field("userdata", T.STRING, "Base64 string containing the user data (listVirtualMachines userdata=true)"),
    Field("rootdeviceid", T.LONG, "device ID of the root volume"),
    Field("rootdevicetype", T.STRING, "device type of the root volume"),
    Field("projectid", T.STRING, "the project id of the vm"),
    Field("project", T.STRING, "the project name of the vm"),
    Field("hasannotations", T.BOOLEAN, "true if the entity/resource has annotations"),
    Field("instancename", T.STRING, "instance name of the user vm; this parameter is returned to the ROOT admin "
          "only"),
    Field("hostid", T.STRING, "the ID of the host for the virtual machine"),
    Field("hostname", T.STRING, "the name of the host for the virtual machine"),
])

# CloudStack's defaults of user.vm.denied.details and user.vm.readonly.details: what users do not see of an
# instance's details, and what they see but may not change.
USER_DENIED_DETAILS = frozenset({"rootdisksize", "cpuOvercommitRatio", "memoryOvercommitRatio",
                                 "Message.ReservedCapacityFreed.Flag"})
USER_READONLY_DETAILS = "dataDiskController, rootDiskController"
_LOST_CONNECTION = frozenset({"Down", "Disconnected", "Alert", "Removed", "Error", "Rebalancing"})
_MAINTENANCE = frozenset({"PrepareForMaintenance", "Maintenance", "ErrorInMaintenance"})


def _host_control_state(status: str | None, resource_state: str | None) -> str:
    """CloudStack's ControlState of an instance's host."""
    if status in (None, "Unknown") or resource_state is None:
        return "Unknown"
    if status in _LOST_CONNECTION:
        return "Offline"
    if resource_state in _MAINTENANCE:
        return "Maintenance"
    return "Enabled" if resource_state == "Enabled" else "Disabled"


def _details(record: InstanceRecord, *, admin: bool) -> dict[str, str]:
    """The details a caller may see: admins all but the server's bookkeeping; users neither what an admin
    configured (hidden details: a template's, a Root Admin's deploy-time ones) nor those CloudStack denies
    them (`user.vm.denied.details`). A user's own deploy-time details, and what `prepare` added, stay visible."""
    details = record.details
    if admin:
        return {k: v for k, v in details.items() if k not in _INTERNAL_DETAILS}
    return {k: v for k, v in details.items()
            if k not in _INTERNAL_DETAILS and k not in USER_DENIED_DETAILS and k not in record.hidden}


def instance_view(record: InstanceRecord, *, admin: bool) -> dict[str, Any]:
    """CloudStack's UserVmResponse for one instance; host fields and the internal name for admins only."""
    row = record.row
    uefi = next((v for k, v in record.details.items() if k.lower() == "uefi"), None)
    fields: dict[str, Any] = {
        "id": row.uuid,
        "name": row.name,
        "displayname": row.display_name or row.name,
        "account": row.account_name,
        "accountid": row.account_uuid,
        "domainid": row.domain_uuid,
        "domain": row.domain_name,
        "domainpath": paths.shown(row.domain_path),
        "userid": row.user_uuid,
        "username": row.user_name,
        "created": format_date(row.created),
        "lastupdated": format_date(row.state_changed),
        "state": row.state,
        "powerstate": row.power_state,
        "haenable": row.ha_enabled,
        "displayvm": True,
        "zoneid": row.zone_uuid,
        "zonename": row.zone_name,
        "hostcontrolstate": _host_control_state(row.host_status, row.host_resource_state)
        if row.host_uuid is not None else None,
        "templateid": row.template_uuid,
        "templatename": row.template_name,
        "templatedisplaytext": row.template_display_text,
        "templatetype": row.template_type,
        "templateformat": row.template_format,
        "passwordenabled": row.template_password_enabled,
        "ostypeid": row.os_uuid,
        "osdisplayname": row.os_name,
        "guestosid": row.os_uuid,
        "serviceofferingid": row.offering_uuid,
        "serviceofferingname": row.offering_name,
        "cpunumber": row.cpus,
        "cpuspeed": row.speed,
        "memory": row.memory,
        "hypervisor": "External",
        "arch": row.arch,
        "isdynamicallyscalable": row.dynamically_scalable,
        "deleteprotection": False,
        "boottype": "Uefi" if uefi is not None else "Bios",
        "bootmode": uefi.lower() if uefi is not None else "legacy",
        "nic": [nic_view(nic) for nic in record.nics],
        "details": _details(record, admin=admin),
        "readonlydetails": None if admin else USER_READONLY_DETAILS,
        "extensionid": row.extension_uuid,
        "extensionname": row.extension_name,
        "tags": [_tag(row, key, value) for key, value in record.tags],
        "affinitygroup": [],
        "securitygroup": [],
        **_guest_fields(record),
        "hasannotations": False,
    }
    if row.project_uuid is not None:  # a project's instance is shown as the project's (CloudStack's populateOwner)
        fields.update(projectid=row.project_uuid, project=row.project_name)
        del fields["account"]
    if admin:
        fields["instancename"] = row.instance_name
        if row.host_uuid is not None:
            fields["hostid"] = row.host_uuid
            fields["hostname"] = row.host_name
    return without_none(fields)


def _tag(row: Any, key: str, value: str) -> dict[str, Any]:
    """A ResourceTagResponse (RESOURCE_TAG) of one of the instance's tags."""
    owner = {"projectid": row.project_uuid, "project": row.project_name} if row.project_uuid \
        else {"account": row.account_name}
    return {"key": key, "value": value, "resourcetype": "UserVm", "resourceid": row.uuid, **owner,
            "domainid": row.domain_uuid, "domain": row.domain_name}


def _guest_fields(record: InstanceRecord) -> dict[str, Any]:
    """Key pairs, registered user data and the root volume, as UserVmResponse shows them."""
    row = record.row
    return {
        "keypairs": record.details.get(SSH_KEYPAIR_NAMES),
        "userdataid": row.user_data_uuid,
        "userdataname": row.user_data_name,
        "userdatadetails": row.user_data_details if row.user_data_uuid else None,
        "rootdeviceid": row.root_volume_device,
        "rootdevicetype": row.root_volume_type,
    }


def show_user_data(db: Session | Connection, items: list[dict[str, Any]]) -> None:
    """Add each listed instance's user data (`userdata`, base64), as listVirtualMachines userdata=true does."""
    contents = user_data_of(db, [item["id"] for item in items])
    for item in items:
        if contents.get(item["id"]):
            item["userdata"] = contents[item["id"]]


def instance_response(db: Session | Connection, uuid: str, *, admin: bool) -> dict[str, Any]:
    """The UserVmResponse of one instance (a job's result); includes instances just expunged."""
    record = get_record(db, uuid)
    return {"id": uuid} if record is None else instance_view(record, admin=admin)


def instance_job_result(db: Database) -> InstanceResult:
    """The result of a finished instance job: `{"virtualmachine": <UserVmResponse as the owner sees it>}`."""

    def result(ctx: JobContext) -> dict[str, Any]:
        # A read only: on this worker's kept connection (no Session, no pool checkout). The operation is
        # done by now, so a database outage delays its result rather than failing the job.
        def read() -> dict[str, Any]:
            with db.kept_connection() as connection:
                return instance_response(connection, ctx.args["id"], admin=ctx.owner.role_type == "Admin")

        return {"virtualmachine": until_available(read, what=f"the result of job {ctx.job_uuid}")}

    return result
