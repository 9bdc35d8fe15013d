"""Snapshot listings: listSnapshots and listVMSnapshot (CloudStack's name for it, without a final s).

Volume snapshots do not exist for External instances (CloudStack takes none of them: their disks are the
extension's), so listSnapshots is always empty. Instance snapshots live on the hypervisor, where the
extension's `ListSnapshots` custom action lists them (see `switchboard.extensions.custom_actions.snapshots`):
listVMSnapshot runs it for the instance asked about — or for every instance the caller sees whose
extension has it, which runs the extension once per instance: name `virtualmachineid` to ask about one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from switchboard.api.async_jobs import owner_of
from switchboard.api.call import Call
from switchboard.api.owners import OWNER_PARAMS, list_owner
from switchboard.api.params import Param, ParamType
from switchboard.api.registry import api_command
from switchboard.api.responses import ListResponse, paginate
from switchboard.api.shapes import Field, Shape, T
from switchboard.api.views.fields import OWNED_FIELDS, without_none
from switchboard.compute.instance_rows import get_instance
from switchboard.db.models.compute import Instance, InstanceState
from switchboard.db.models.identity import Domain
from switchboard.db.models.infrastructure import Zone
from switchboard.errors import ExtensionFailed, NotFound
from switchboard.extensions.custom_actions import snapshots
from switchboard.extensions.custom_actions.run import RunRequest
from switchboard.identity.projects import check_owner
from switchboard.infra import volumes
from switchboard.infra.common import Page
from switchboard.infra.owned import OwnerNames, owner_names, visible
from switchboard.roles import ALL_ROLES

VM_SNAPSHOT = Shape("vmSnapshot", [
    Field("id", T.STRING, "the ID of the vm snapshot"),
    Field("name", T.STRING, "the name of the vm snapshot"),
    Field("state", T.STRING, "the state of the vm snapshot"),
    Field("description", T.STRING, "the description of the vm snapshot"),
    Field("displayname", T.STRING, "the display name of the vm snapshot"),
    Field("zoneid", T.STRING, "the Zone ID of the vm snapshot"),
    Field("zonename", T.STRING, "the Zone name of the vm snapshot"),
    Field("virtualmachineid", T.STRING, "the vm ID of the vm snapshot"),
    Field("virtualmachinename", T.STRING, "the vm name of the vm snapshot"),
    Field("parent", T.STRING, "the parent ID of the vm snapshot"),
    Field("parentName", T.STRING, "the parent displayName of the vm snapshot"),
    Field("current", T.BOOLEAN, "indicates if this is current snapshot"),
    Field("type", T.STRING, "VM Snapshot type (Disk or DiskAndMemory)"),
    Field("created", T.STRING, "the create date of the vm snapshot, as the extension reports it"),
    *(field for field in OWNED_FIELDS if field.name != "accountid"),
    Field("hypervisor", T.STRING, "the type of hypervisor on which snapshot is stored"),
])


# A volume snapshot (CloudStack's SnapshotResponse): none exists for External instances.
_SNAPSHOT_FIELDS = ("id", "name", "volumeid", "volumename", "volumetype", "snapshottype", "intervaltype", "state",
                    "created", "zoneid", "account", "domainid", "domain")
VOLUME_SNAPSHOT = Shape("snapshot", [Field(name, T.STRING, f"the {name} of the snapshot") for name in _SNAPSHOT_FIELDS])


def _snapshot_view(instance: Instance, zone: tuple[str, str], owner: OwnerNames | None,
                   row: snapshots.SnapshotRow) -> dict[str, Any]:
    return without_none({
        "id": snapshots.snapshot_id(instance.uuid, row.name), "name": row.name, "state": "Ready",
        "description": row.description, "displayname": row.name, "zoneid": zone[0], "zonename": zone[1],
        "virtualmachineid": instance.uuid, "virtualmachinename": instance.name,
        "parent": snapshots.snapshot_id(instance.uuid, row.parent) if row.parent else None,
        "parentName": row.parent, "current": row.current,
        "type": "DiskAndMemory" if row.with_memory else "Disk", "created": row.created,
        **(owner.fields(domain_path=True) if owner is not None else {}), "hypervisor": "External",
    })


def _snapshots_of(call: Call, instance: Instance, action_uuid: str) -> list[snapshots.SnapshotRow]:
    """Run the instance's `ListSnapshots` action as the caller and read its rows."""
    request = RunRequest(action_uuid=action_uuid, resource_uuid=instance.uuid, resource_type="VirtualMachine",
                         values={})
    answer = call.services.custom_actions.run(request, owner_of(call.caller))["customactionresult"]
    details = answer["result"]["details"]
    if not answer["success"]:
        raise ExtensionFailed(f"Failed to list the snapshots of instance {instance.name}: {details}",
                              uuids=[instance.uuid])
    try:
        return snapshots.parse_snapshots(details)
    except ValueError as exc:
        raise ExtensionFailed(f"Failed to list the snapshots of instance {instance.name}: {exc}",
                              uuids=[instance.uuid]) from None


def _candidates(call: Call) -> list[Instance]:
    session = call.session
    if call.get("virtualmachineid"):
        instance = get_instance(session, call.get("virtualmachineid"), parameter="virtualmachineid")
        path = session.execute(select(Domain.path).where(Domain.id == instance.domain_id)).scalar_one()
        check_owner(call.session, call.who, account_id=instance.account_id, domain_path_stored=path)
        return [instance]
    stmt = (select(Instance).where(Instance.removed.is_(None), Instance.host_id.is_not(None) |
                                   Instance.last_host_id.is_not(None),
                                   Instance.state.in_([InstanceState.RUNNING.value, InstanceState.STOPPED.value]),
                                   visible(call.who, Instance.account_id, list_all=bool(call.get("listall")),
                                           account_id=list_owner(call)))
            .order_by(Instance.id))
    return list(session.scalars(stmt))


@api_command(
    "listVMSnapshot",
    params=[
        Param("vmsnapshotid", ParamType.UUID, description="The ID of the VM snapshot"),
        Param("virtualmachineid", ParamType.UUID, description="the ID of the vm"),
        Param("name", description="lists snapshot by snapshot name or display name"),
        Param("state", description="state of the virtual machine snapshot"),
        *OWNER_PARAMS,
        Param("isrecursive", ParamType.BOOLEAN, description="list resources in the domain's subdomains too"),
        Param("tags", ParamType.MAP, description="List resources by tags (key/value pairs)"),
    ],
    roles=ALL_ROLES,
    description="List virtual machine snapshots (those the instance's extension lists with its ListSnapshots "
                "custom action).",
    response=VM_SNAPSHOT,
    is_list=True,
    quick=False,  # runs extension executables
    since="4.2.0",
)
def list_vm_snapshots(call: Call) -> ListResponse:
    session = call.session
    items: list[dict[str, Any]] = []
    instances = _candidates(call)
    owners = owner_names(session, [i.account_id for i in instances])
    zones = {zone_id: (uuid, name) for zone_id, uuid, name in session.execute(
        select(Zone.id, Zone.uuid, Zone.name).where(Zone.id.in_({i.zone_id for i in instances})))}
    for instance in instances:
        action = snapshots.list_action_of(session, instance, call.who.role_type)
        if action is None:
            continue
        for row in _snapshots_of(call, instance, action):
            item = _snapshot_view(instance, zones[instance.zone_id], owners.get(instance.account_id), row)
            if call.get("vmsnapshotid") and item["id"] != call.get("vmsnapshotid"):
                continue
            if call.get("name") and call.get("name") != row.name:
                continue
            if call.get("state") and call.get("state") != item["state"]:
                continue
            if call.keyword and call.keyword.lower() not in row.name.lower():
                continue
            items.append(item)
    return ListResponse("vmSnapshot", paginate(items, page=call.page, pagesize=call.pagesize), count=len(items))


@api_command(
    "listSnapshots",
    params=[
        Param("id", ParamType.UUID, description="lists snapshot by snapshot ID"),
        Param("volumeid", ParamType.UUID, description="the ID of the disk volume"),
        Param("zoneid", ParamType.UUID, description="list snapshots by zone id"),
        Param("name", description="lists snapshot by snapshot name"),
        Param("snapshottype", description="valid values are MANUAL or RECURRING."),
        *OWNER_PARAMS,
        Param("isrecursive", ParamType.BOOLEAN, description="list resources in the domain's subdomains too"),
        Param("tags", ParamType.MAP, description="List resources by tags (key/value pairs)"),
    ],
    roles=ALL_ROLES,
    description="Lists all available snapshots for the account (volume snapshots: none exist for External "
                "instances; see listVMSnapshot).",
    response=VOLUME_SNAPSHOT,
    is_list=True,
)
def list_snapshots(call: Call) -> ListResponse:
    uuid = call.get("volumeid")
    if uuid:
        found, _total = volumes.list_volumes(call.session, call.who, Page(), volumes.VolumeFilter(uuid=uuid))
        if not found:
            raise NotFound(f"Unable to find volume by id {uuid} (parameter volumeid)", uuids=[uuid])
    list_owner(call)
    return ListResponse("snapshot", [])
