"""Tag commands: createTags and deleteTags (async, as in CloudStack: the tags are written in the request and
the job answers success), listTags; and the `tags[i].key/value` filter other list commands accept."""

from __future__ import annotations

from typing import Any

from switchboard.api.audit import audit
from switchboard.api.call import Call
from switchboard.api.done_jobs import done
from switchboard.api.owners import OWNER_PARAMS, list_owner
from switchboard.api.paging import listing, page_of
from switchboard.api.params import MapValue, Param, ParamType
from switchboard.api.registry import api_command
from switchboard.api.responses import AsyncJobRequest, ListResponse
from switchboard.api.shapes import SUCCESS
from switchboard.api.views.fields import RESOURCE_TAG
from switchboard.db.models.tags import ResourceTag
from switchboard.infra import tags
from switchboard.infra.owned import OwnerNames, owner_names
from switchboard.roles import ALL_ROLES

__all__ = ["TAGS_PARAM", "tag_filter", "tag_view", "tag_views"]

TAGS_PARAM = Param("tags", ParamType.MAP, description="List resources by tags (key/value pairs)")


def tag_filter(call: Call, kind: str, id_column: Any) -> Any:
    """The WHERE clause of a list command's `tags[i].key=K&tags[i].value=V` (any pair matches), or None."""
    value = call.get("tags")
    if not isinstance(value, MapValue):
        return None
    pairs = [(entry["key"], entry.get("value", "")) if "key" in entry else next(iter(entry.items()))
             for entry in value if entry]
    return tags.tagged(kind, id_column, pairs)


def tag_view(tag: ResourceTag, owner: OwnerNames | None) -> dict[str, Any]:
    """CloudStack's ResourceTagResponse (RESOURCE_TAG)."""
    fields: dict[str, Any] = {"key": tag.key, "value": tag.value, "resourcetype": tag.resource_type,
                              "resourceid": tag.resource_uuid}
    if owner is not None:
        fields.update(owner.fields(domain_path=True))
    if tag.customer:
        fields["customer"] = tag.customer
    return fields


def tag_views(call: Call, kind: str, resource_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The `tags` of many resources of one type as responses show them, by resource id (two queries)."""
    found = tags.tags_of(call.session, kind, resource_ids)
    owners = owner_names(call.session, [tag.account_id for listed in found.values() for tag in listed])
    return {rid: [tag_view(tag, owners.get(tag.account_id)) for tag in listed] for rid, listed in found.items()}


def _pairs(call: Call) -> dict[str, str]:
    """`tags[i].key=K&tags[i].value=V` (CloudStack's form), or `tags[i].K=V` (as `cs` sends a dict)."""
    value = call.get("tags")
    if not isinstance(value, MapValue):
        return {}
    pairs: dict[str, str] = {}
    for entry in value:
        if "key" in entry:
            pairs[entry["key"]] = entry.get("value", "")
        else:
            pairs.update(entry)
    return pairs


_RESOURCE = (
    Param("resourceids", ParamType.LIST, item_type=ParamType.STRING, required=True,
          description="list of resources to create the tags for"),
    Param("resourcetype", required=True, description="type of the resource (UserVm, Volume, Template, Network, "
          "Project)"),
)


@api_command(
    "createTags",
    params=[*_RESOURCE, Param("tags", ParamType.MAP, required=True, description="Map of tags (key/value pairs)"),
            Param("customer", description="identifies client specific tag")],
    roles=ALL_ROLES,
    description="Creates resource tag(s)",
    response=SUCCESS,
    is_async=True,
    since="4.0.0",
)
def create_tags(call: Call) -> AsyncJobRequest:
    kind = tags.resource_type(call.get("resourcetype"))
    made = tags.create_tags(call.session, call.who, kind, call.get("resourceids"), _pairs(call),
                            customer=call.get("customer"))
    for tag in made:
        audit(call, "CREATE_TAGS", f"Created tag {tag.key} on {kind} {tag.resource_uuid}", resource_type=kind,
              resource_uuid=tag.resource_uuid)
    return done({"success": True})


@api_command(
    "deleteTags",
    params=[*_RESOURCE, Param("tags", ParamType.MAP, description="Delete tags matching key/value pairs (all "
                              "tags of the resources when not given)")],
    roles=ALL_ROLES,
    description="Deleting resource tag(s)",
    response=SUCCESS,
    is_async=True,
    since="4.0.0",
)
def delete_tags(call: Call) -> AsyncJobRequest:
    kind = tags.resource_type(call.get("resourcetype"))
    uuids = call.get("resourceids")
    tags.delete_tags(call.session, call.who, kind, uuids, _pairs(call))
    for uuid in uuids:
        audit(call, "DELETE_TAGS", f"Deleted tags of {kind} {uuid}", resource_type=kind, resource_uuid=uuid)
    return done({"success": True})


@api_command(
    "listTags",
    params=[
        Param("resourcetype", description="list by resource type"),
        Param("resourceid", description="list by resource id"),
        Param("key", description="list by key"),
        Param("value", description="list by value"),
        Param("customer", description="list by customer name"),
        *OWNER_PARAMS,
        Param("isrecursive", ParamType.BOOLEAN, description="list resources in the domain's subdomains too"),
    ],
    roles=ALL_ROLES,
    description="List resource tag(s)",
    response=RESOURCE_TAG,
    is_list=True,
    since="4.0.0",
)
def list_tags(call: Call) -> ListResponse:
    kind = tags.resource_type(call.get("resourcetype")) if call.get("resourcetype") else None
    filters = tags.TagFilter(kind=kind, resource_uuid=call.get("resourceid"), key=call.get("key"),
                             value=call.get("value"), customer=call.get("customer"), account_id=list_owner(call),
                             list_all=bool(call.get("listall")))
    found, total = tags.list_tags(call.session, call.who, page_of(call), filters)
    owners = owner_names(call.session, [tag.account_id for tag in found])
    return listing("tag", found, total, lambda tag: tag_view(tag, owners.get(tag.account_id)))
