"""Storage commands: listVolumes; createDiskOffering, listDiskOfferings, updateDiskOffering,
deleteDiskOffering. Volumes are records of the disks an instance was given (see `switchboard.infra.volumes`);
there is no primary storage to list them on. attachVolume, detachVolume and createSnapshot answer as
CloudStack does for External instances: their jobs fail with its code and text."""

from __future__ import annotations

from typing import Any

from switchboard.api.audit import audit
from switchboard.api.call import Call
from switchboard.api.commands.snapshots import VOLUME_SNAPSHOT
from switchboard.api.commands.tags import TAGS_PARAM, tag_filter
from switchboard.api.done_jobs import refused
from switchboard.api.owners import OWNER_PARAMS, list_owner
from switchboard.api.paging import listing, page_of
from switchboard.api.params import Param, ParamType, format_date
from switchboard.api.registry import api_command
from switchboard.api.responses import AsyncJobRequest, ListResponse, ObjectResponse, SuccessResponse
from switchboard.api.shapes import SUCCESS, Field, Shape, T
from switchboard.api.views.fields import OWNED_FIELDS, TAGS_FIELD, without_none
from switchboard.compute.instance_rows import get_instance
from switchboard.db.models.storage import DiskOffering, Volume
from switchboard.errors import InvalidParameter, NotFound
from switchboard.infra import disk_offerings, tags, volumes, zones
from switchboard.infra.common import Page
from switchboard.infra.disk_offerings import GIB
from switchboard.infra.owned import owner_names
from switchboard.roles import ALL_ROLES

DISK_OFFERING = Shape("diskoffering", [
    Field("id", T.STRING, "unique ID of the disk offering"),
    Field("name", T.STRING, "the name of the disk offering"),
    Field("displaytext", T.STRING, "an alternate display text of the disk offering."),
    Field("disksize", T.LONG, "the size of the disk offering in GB"),
    Field("created", T.DATE, "the date this disk offering was created"),
    Field("iscustomized", T.BOOLEAN, "true if disk offering uses custom size, false otherwise"),
    Field("iscustomizediops", T.BOOLEAN, "true if disk offering uses custom iops, false otherwise"),
    Field("tags", T.STRING, "the tags for the disk offering"),
    Field("storagetype", T.STRING, "the storage type for this disk offering"),
    Field("provisioningtype", T.STRING, "provisioning type used to create volumes."),
    Field("displayoffering", T.BOOLEAN, "whether to display the offering to the end user or not."),
    Field("disksizestrictness", T.BOOLEAN, "To allow or disallow the resize operation on the disks created from "
          "this disk offering"),
    Field("encrypt", T.BOOLEAN, "Whether disks using this offering will be encrypted on primary storage"),
    Field("state", T.STRING, "state of the disk offering"),
    Field("hasannotations", T.BOOLEAN, "true if the entity/resource has annotations"),
])

VOLUME = Shape("volume", [
    Field("id", T.STRING, "ID of the disk volume"),
    Field("name", T.STRING, "name of the disk volume"),
    Field("zoneid", T.STRING, "ID of the availability zone"),
    Field("zonename", T.STRING, "name of the availability zone"),
    Field("type", T.STRING, "type of the disk volume (ROOT or DATADISK)"),
    Field("deviceid", T.LONG, "the ID of the device on user vm the volume is attached to."),
    Field("virtualmachineid", T.STRING, "id of the virtual machine"),
    Field("vmname", T.STRING, "name of the virtual machine"),
    Field("vmdisplayname", T.STRING, "display name of the virtual machine"),
    Field("vmstate", T.STRING, "state of the virtual machine"),
    Field("templateid", T.STRING, "the ID of the template for the virtual machine (ROOT volumes)"),
    Field("templatename", T.STRING, "the name of the template for the virtual machine"),
    Field("templatedisplaytext", T.STRING, "an alternate display text of the template"),
    Field("provisioningtype", T.STRING, "provisioning type used to create volumes."),
    Field("size", T.LONG, "size of the disk volume (bytes)"),
    Field("created", T.DATE, "the date the disk volume was created"),
    Field("state", T.STRING, "the state of the disk volume"),
    *OWNED_FIELDS,
    Field("storagetype", T.STRING, "shared or local storage"),
    Field("hypervisor", T.STRING, "Hypervisor the volume belongs to"),
    Field("diskofferingid", T.STRING, "ID of the disk offering"),
    Field("diskofferingname", T.STRING, "name of the disk offering"),
    Field("diskofferingdisplaytext", T.STRING, "the display text of the disk offering"),
    Field("serviceofferingid", T.STRING, "ID of the service offering for root disk"),
    Field("serviceofferingname", T.STRING, "name of the service offering for root disk"),
    Field("serviceofferingdisplaytext", T.STRING, "the display text of the service offering for root disk"),
    Field("attached", T.DATE, "the date the volume was attached to a VM instance"),
    Field("destroyed", T.BOOLEAN, "the boolean state of whether the volume is destroyed or not"),
    Field("isextractable", T.BOOLEAN, "true if the volume is extractable, false otherwise"),
    Field("displayvolume", T.BOOLEAN, "an optional field whether to the display the volume to the end user or not."),
    TAGS_FIELD,
])


def disk_offering_view(offering: DiskOffering) -> dict[str, Any]:
    """CloudStack's DiskOfferingResponse."""
    return without_none({
        "id": offering.uuid,
        "name": offering.name,
        "displaytext": offering.display_text,
        "disksize": offering.disk_size // GIB if offering.disk_size is not None else 0,
        "created": format_date(offering.created),
        "iscustomized": offering.customized,
        "iscustomizediops": False,
        "tags": offering.tags,
        "storagetype": offering.storage_type,
        "provisioningtype": offering.provisioning_type,
        "displayoffering": offering.display_offering,
        "disksizestrictness": False,
        "encrypt": False,
        "state": offering.state,
        "hasannotations": False,
    })


_OFFERING_PARAMS = (
    Param("displaytext", description="An alternate display text of the disk offering", length=4096),
    Param("tags", description="tags for the disk offering", length=4096),
    Param("displayoffering", ParamType.BOOLEAN, description="an optional field, whether to display the offering "
          "to the end user or not."),
)


@api_command(
    "createDiskOffering",
    params=[
        Param("name", required=True, description="Name of the disk offering"),
        Param("disksize", ParamType.LONG, description="size of the disk offering in GB (1GB = 1,073,741,824 bytes)"),
        Param("customized", ParamType.BOOLEAN, description="whether disk offering size is custom or not"),
        Param("storagetype", description="the storage type of the disk offering: local or shared"),
        Param("provisioningtype", description="provisioning type used to create volumes: thin, sparse, fat"),
        *_OFFERING_PARAMS,
    ],
    description="Creates a disk offering.",
    response=DISK_OFFERING,
)
def create_disk_offering(call: Call) -> ObjectResponse:
    spec = disk_offerings.DiskOfferingSpec(
        name=call.get("name"), display_text=call.get("displaytext"), disk_size_gb=call.get("disksize"),
        customized=bool(call.get("customized")), storage_type=call.get("storagetype") or "shared",
        provisioning_type=call.get("provisioningtype") or "thin", tags=call.get("tags"),
        display_offering=call.get("displayoffering", True),
    )
    offering = disk_offerings.create_disk_offering(call.session, spec)
    audit(call, "DISK.OFFERING.CREATE", f"Created disk offering {offering.name}", resource_type="DiskOffering",
          resource_uuid=offering.uuid)
    return ObjectResponse("diskoffering", disk_offering_view(offering))


@api_command(
    "listDiskOfferings",
    params=[
        Param("id", ParamType.UUID, description="ID of the disk offering"),
        Param("name", description="name of the disk offering"),
        Param("zoneid", ParamType.UUID, description="id of zone disk offering is associated with"),
        Param("domainid", ParamType.UUID, description="the ID of the domain of the disk offering"),
        Param("isrecursive", ParamType.BOOLEAN, description="list resources in the domain's subdomains too"),
    ],
    roles=ALL_ROLES,
    description="Lists all available disk offerings.",
    response=DISK_OFFERING,
    is_list=True,
)
def list_disk_offerings(call: Call) -> ListResponse:
    if call.get("zoneid"):
        zones.get_zone(call.session, call.get("zoneid"))
    found, total = disk_offerings.list_disk_offerings(call.session, page_of(call), uuid=call.get("id"),
                                                      name=call.get("name"), admin=call.who.is_admin)
    return listing("diskoffering", found, total, disk_offering_view)


@api_command(
    "updateDiskOffering",
    params=[
        Param("id", ParamType.UUID, required=True, description="ID of the disk offering"),
        Param("name", description="updates name of the disk offering with this value"),
        Param("sortkey", ParamType.INTEGER, description="sort key of the disk offering, integer"),
        *_OFFERING_PARAMS,
    ],
    description="Updates a disk offering.",
    response=DISK_OFFERING,
)
def update_disk_offering(call: Call) -> ObjectResponse:
    offering = disk_offerings.get_disk_offering(call.session, call.get("id"), parameter="id")
    disk_offerings.update_disk_offering(call.session, offering, name=call.get("name"),
                                        display_text=call.get("displaytext"), sort_key=call.get("sortkey"),
                                        display_offering=call.get("displayoffering"), tags=call.get("tags"))
    audit(call, "DISK.OFFERING.EDIT", f"Updated disk offering {offering.name}", resource_type="DiskOffering",
          resource_uuid=offering.uuid)
    return ObjectResponse("diskoffering", disk_offering_view(offering))


@api_command(
    "deleteDiskOffering",
    params=[Param("id", ParamType.UUID, required=True, description="ID of the disk offering")],
    description="Deletes a disk offering.",
    response=SUCCESS,
)
def delete_disk_offering(call: Call) -> SuccessResponse:
    offering = disk_offerings.get_disk_offering(call.session, call.get("id"), parameter="id")
    disk_offerings.delete_disk_offering(call.session, offering)
    audit(call, "DISK.OFFERING.DELETE", f"Deleted disk offering {offering.name}", resource_type="DiskOffering",
          resource_uuid=offering.uuid)
    return SuccessResponse()


def volume_view(row: Any, owner: Any, tagged: list[Any]) -> dict[str, Any]:
    """CloudStack's VolumeResponse for one row of `infra.volumes.list_volumes`."""
    fields: dict[str, Any] = {
        "id": row.uuid, "name": row.name, "zoneid": row.zone_uuid, "zonename": row.zone_name,
        "type": row.volume_type, "deviceid": row.device_id if row.vm_uuid else None,
        "virtualmachineid": row.vm_uuid, "vmname": row.vm_name, "vmdisplayname": row.vm_display_name,
        "vmstate": row.vm_state, "templateid": row.template_uuid, "templatename": row.template_name,
        "templatedisplaytext": row.template_display_text, "provisioningtype": row.provisioning_type,
        "size": row.size, "created": format_date(row.created), "state": row.state,
        **(owner.fields(account_id=True, domain_path=True) if owner is not None else {}),
        "storagetype": row.storage_type, "hypervisor": "External",
        "diskofferingid": row.disk_offering_uuid, "diskofferingname": row.disk_offering_name,
        "diskofferingdisplaytext": row.disk_offering_display_text,
        "serviceofferingid": row.offering_uuid, "serviceofferingname": row.offering_name,
        "serviceofferingdisplaytext": row.offering_display_text,
        "attached": format_date(row.created) if row.vm_uuid else None,
        "destroyed": False, "isextractable": False, "displayvolume": True,
        "tags": [{"key": t.key, "value": t.value, "resourcetype": "Volume", "resourceid": row.uuid,
                  **(owner.fields() if owner is not None else {})} for t in tagged],
    }
    return without_none(fields)


@api_command(
    "listVolumes",
    params=[
        Param("id", ParamType.UUID, description="the ID of the disk volume"),
        Param("ids", ParamType.LIST, item_type=ParamType.UUID, description="the IDs of the volumes"),
        Param("name", description="the name of the disk volume"),
        Param("type", description="the type of disk volume (ROOT or DATADISK)"),
        Param("virtualmachineid", ParamType.UUID, description="the ID of the virtual machine"),
        Param("zoneid", ParamType.UUID, description="the ID of the availability zone"),
        *OWNER_PARAMS,
        Param("isrecursive", ParamType.BOOLEAN, description="list resources in the domain's subdomains too"),
        TAGS_PARAM,
    ],
    roles=ALL_ROLES,
    description="Lists all volumes.",
    response=VOLUME,
    is_list=True,
)
def list_volumes(call: Call) -> ListResponse:
    session = call.session
    instance_id = None
    if call.get("virtualmachineid"):
        instance_id = get_instance(session, call.get("virtualmachineid"), parameter="virtualmachineid").id
    kind = call.get("type")
    filters = volumes.VolumeFilter(
        uuid=call.get("id"), uuids=tuple(call.get("ids") or ()), name=call.get("name"),
        volume_type=kind.upper() if kind else None, instance_id=instance_id,
        zone_id=zones.get_zone(session, call.get("zoneid")).id if call.get("zoneid") else None,
        account_id=list_owner(call), list_all=bool(call.get("listall")),
        tagged=tag_filter(call, "Volume", Volume.id),
    )
    rows, total = volumes.list_volumes(session, call.who, page_of(call), filters)
    owners = owner_names(session, [row.account_id for row in rows])
    found_tags = tags.tags_of(session, "Volume", [row.id for row in rows])
    return listing("volume", rows, total,
                   lambda row: volume_view(row, owners.get(row.account_id), found_tags.get(row.id, [])))


def _volume_refused(call: Call, parameter: str, message: str) -> AsyncJobRequest:
    """The volume named by `parameter` (checked to exist and be the caller's), refused inside its job."""
    found, _total = volumes.list_volumes(call.session, call.who, Page(), volumes.VolumeFilter(uuid=call.get(parameter)))
    if not found:
        raise NotFound(f"Unable to find volume by id {call.get(parameter)} (parameter {parameter})",
                       uuids=[call.get(parameter)])
    return refused(message, uuid=found[0].uuid, instance_type="Volume")


_VOLUME_OPERATIONS = "Volume operations are not allowed for External hypervisor type"


@api_command(
    "attachVolume",
    params=[Param("id", ParamType.UUID, required=True, description="the ID of the disk volume"),
            Param("virtualmachineid", ParamType.UUID, required=True, description="the ID of the virtual machine"),
            Param("deviceid", ParamType.LONG, description="the ID of the device to map the volume to the guest OS")],
    roles=ALL_ROLES,
    description="Attaches a disk volume to a virtual machine (refused, as CloudStack refuses it for External "
                "instances).",
    response=VOLUME,
    is_async=True,
)
def attach_volume(call: Call) -> AsyncJobRequest:
    get_instance(call.session, call.get("virtualmachineid"), parameter="virtualmachineid")
    return _volume_refused(call, "id", _VOLUME_OPERATIONS)


@api_command(
    "detachVolume",
    params=[Param("id", ParamType.UUID, description="the ID of the disk volume"),
            Param("virtualmachineid", ParamType.UUID, description="the ID of the virtual machine"),
            Param("deviceid", ParamType.LONG, description="the device ID on the virtual machine")],
    roles=ALL_ROLES,
    description="Detaches a disk volume from a virtual machine (refused, as CloudStack refuses it for External "
                "instances).",
    response=VOLUME,
    is_async=True,
)
def detach_volume(call: Call) -> AsyncJobRequest:
    if call.get("id") is None:
        raise InvalidParameter("Please provide either a volume id, or a tuple(device id, instance id)",
                               parameter="id")
    return _volume_refused(call, "id", _VOLUME_OPERATIONS)


@api_command(
    "createSnapshot",
    params=[Param("volumeid", ParamType.UUID, required=True, description="The ID of the disk volume"),
            Param("name", description="the name of the snapshot"),
            *OWNER_PARAMS],
    roles=ALL_ROLES,
    description="Creates an instant snapshot of a volume (refused, as CloudStack refuses it for External "
                "instances: their snapshots are the extension's, see listVMSnapshot).",
    response=VOLUME_SNAPSHOT,
    is_async=True,
)
def create_snapshot(call: Call) -> AsyncJobRequest:
    return _volume_refused(call, "volumeid", "Snapshot operations are not allowed for External hypervisor type")
