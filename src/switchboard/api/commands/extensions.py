"""Extension commands (protocol notes §3.2): createExtension, listExtensions, updateExtension,
deleteExtension, registerExtension, unregisterExtension. All admin-only and synchronous.

The handlers parse and shape responses; the rules live in switchboard.extensions.registry.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from switchboard.api.audit import audit
from switchboard.api.call import Call
from switchboard.api.params import Param, ParamType, format_date
from switchboard.api.registry import api_command
from switchboard.api.responses import ListResponse, ObjectResponse, SuccessResponse
from switchboard.api.shapes import SUCCESS, Field, Shape, T
from switchboard.db.models.extensions import Extension
from switchboard.errors import InvalidParameter
from switchboard.extensions import store
from switchboard.extensions.registry import ExtensionRegistry, NewExtension
from switchboard.extensions.store import ExtensionRecord
from switchboard.infra.common import Page, fetch_page

# listExtensions `details`: which optional parts to show. CloudStack's description says `resources` but
# its enum accepts `resource` (quirk §8.4): both are accepted here.
_DETAIL_VIEWS = {"all": {"details", "resources"}, "resource": {"resources"}, "resources": {"resources"},
                 "external": {"details"}, "min": set()}


_RESOURCE = Shape("resources", [
    Field("id", T.STRING, "ID of the resource associated with the extension"),
    Field("name", T.STRING, "Name of the resource associated with this mapping"),
    Field("type", T.STRING, "Type of the resource"),
    Field("details", T.MAP, "the details of the resource map"),
    Field("created", T.DATE, "Creation timestamp of the mapping"),
])
EXTENSION = Shape("extension", [
    Field("id", T.STRING, "ID of the extension"),
    Field("name", T.STRING, "Name of the extension"),
    Field("description", T.STRING, "Description of the extension"),
    Field("type", T.STRING, "Type of the extension"),
    Field("path", T.STRING, "The path of the entry point fo the extension"),
    Field("pathready", T.BOOLEAN, "True if the extension path is in ready state across management servers"),
    Field("isuserdefined", T.BOOLEAN, "True if the extension is added by admin"),
    Field("orchestratorrequirespreparevm", T.BOOLEAN, "Only for Orchestrator extensions: whether prepare runs "
          "before an instance's first start"),
    Field("state", T.STRING, "The state of the extension"),
    Field("details", T.MAP, "The details of the extension"),
    Field("resources", T.LIST, "List of resources to which extension is registered to", shape=_RESOURCE),
    Field("created", T.DATE, "Creation timestamp of the extension"),
])


def extension_view(registry: ExtensionRegistry, record: ExtensionRecord, *, parts: set[str] | None = None
                   ) -> dict[str, Any]:
    """CloudStack's ExtensionResponse, fields in its order; `parts` ⊆ {"details", "resources"} (all: None)."""
    show = {"details", "resources"} if parts is None else parts
    extension = record.extension
    view: dict[str, Any] = {"id": extension.uuid, "name": extension.name}
    if extension.description is not None:
        view["description"] = extension.description
    view |= {
        "type": extension.type,
        "path": str(registry.full_path(extension)),
        "pathready": extension.path_ready,
        "isuserdefined": extension.is_user_defined,
    }
    if record.has_prepare_flag:
        view["orchestratorrequirespreparevm"] = record.requires_prepare_vm
    view["state"] = extension.state
    if "details" in show:
        view["details"] = dict(record.details)
    if "resources" in show:
        view["resources"] = [
            {"id": r.uuid, "name": r.name, "type": r.type, "details": r.details, "created": format_date(r.created)}
            for r in record.resources
        ]
    view["created"] = format_date(extension.created)
    return view


def _full(call: Call, extension: Extension) -> ObjectResponse:
    call.session.flush()
    record = store.record_of(call.session, extension)
    return ObjectResponse("extension", extension_view(call.services.extensions, record))


def _audit(call: Call, event_type: str, description: str, extension: Extension) -> None:
    audit(call, event_type, description, resource_type="Extension", resource_uuid=extension.uuid)


@api_command(
    "createExtension",
    params=[
        Param("name", required=True, description="Name of the extension"),
        Param("type", required=True, description="Type of the extension: Orchestrator"),
        Param("description", length=4096, description="Description of the extension"),
        Param("path", length=2048, description="Relative path of the entry point inside the extensions root; "
              "default <name>/<name>.sh"),
        Param("orchestratorrequirespreparevm", ParamType.BOOLEAN,
              description="Only for Orchestrator extensions: whether prepare runs before an instance's first start"),
        Param("state", description="State of the extension: Enabled (default) or Disabled"),
        Param("details", ParamType.MAP, description="Details in key/value pairs (details[0].key=value)"),
    ],
    description="Create an extension",
    response=EXTENSION,
    since="4.21.0",
)
def create_extension(call: Call) -> ObjectResponse:
    registry = call.services.extensions
    extension = registry.create(call.session, NewExtension(
        name=call.get("name"), type=call.get("type"), description=call.get("description"), path=call.get("path"),
        requires_prepare_vm=call.get("orchestratorrequirespreparevm"), state=call.get("state"),
        details=call.map_param("details"),
    ))
    _audit(call, "EXTENSION.CREATE", f"Created extension {extension.name}", extension)
    return _full(call, extension)


@api_command(
    "listExtensions",
    params=[
        Param("id", ParamType.UUID, description="UUID of the extension"),
        Param("name", description="Name of the extension"),
        Param("details", ParamType.LIST, item_type=ParamType.STRING,
              description="Parts to show: all (default), resource (or resources), external, min"),
    ],
    description="Lists extensions",
    response=EXTENSION,
    is_list=True,
    since="4.21.0",
)
def list_extensions(call: Call) -> ListResponse:
    parts: set[str] = set()
    for value in call.get("details") or ["all"]:
        view = _DETAIL_VIEWS.get(value.lower())
        if view is None:
            raise InvalidParameter(f"Invalid details value: {value}; expected one of all, resource, external, min",
                                   parameter="details")
        parts |= view
    stmt = select(Extension).where(Extension.removed.is_(None)).order_by(Extension.id.desc())
    if call.get("id"):
        stmt = stmt.where(Extension.uuid == call.get("id"))
    if call.get("name"):
        stmt = stmt.where(Extension.name == call.get("name"))
    if call.keyword:
        stmt = stmt.where(Extension.name.ilike(f"%{call.keyword}%"))
    rows, _total = fetch_page(call.session, stmt, Page(page=call.page, pagesize=call.pagesize))
    records = store.load_records(call.session, [row[0] for row in rows], with_resources="resources" in parts)
    registry = call.services.extensions
    # `count` is the number of items on the page, as CloudStack answers listExtensions (§3.1).
    return ListResponse("extension", [extension_view(registry, record, parts=parts) for record in records])


@api_command(
    "updateExtension",
    params=[
        Param("id", ParamType.UUID, required=True, description="UUID of the extension"),
        Param("description", length=4096, description="Description of the extension"),
        Param("orchestratorrequirespreparevm", ParamType.BOOLEAN,
              description="Only for Orchestrator extensions: whether prepare runs before an instance's first start"),
        Param("state", description="State of the extension: Enabled or Disabled"),
        Param("details", ParamType.MAP, description="Details in key/value pairs; replace all visible details"),
        Param("cleanupdetails", ParamType.BOOLEAN, description="Remove all visible details (details is ignored)"),
    ],
    description="Update the extension",
    response=EXTENSION,
    since="4.21.0",
)
def update_extension(call: Call) -> ObjectResponse:
    registry = call.services.extensions
    extension = store.get_extension(call.session, call.get("id"))
    registry.update(
        call.session, extension, description=call.get("description"),
        requires_prepare_vm=call.get("orchestratorrequirespreparevm"), state=call.get("state"),
        details=call.map_param("details"), cleanup_details=bool(call.get("cleanupdetails")),
    )
    _audit(call, "EXTENSION.UPDATE", f"Updated extension {extension.name}", extension)
    return _full(call, extension)


@api_command(
    "deleteExtension",
    params=[
        Param("id", ParamType.UUID, required=True, description="UUID of the extension"),
        Param("cleanup", ParamType.BOOLEAN, description="Also remove the extension's files and payload directory"),
    ],
    description="Delete the extension",
    response=SUCCESS,
    since="4.21.0",
)
def delete_extension(call: Call) -> SuccessResponse:
    extension = store.get_extension(call.session, call.get("id"))
    call.services.extensions.delete(call.session, extension, cleanup=bool(call.get("cleanup")))
    _audit(call, "EXTENSION.DELETE", f"Deleted extension {extension.name}", extension)
    return SuccessResponse()


_RESOURCE_PARAMS = [
    Param("extensionid", ParamType.UUID, required=True, description="UUID of the extension"),
    Param("resourceid", required=True, description="UUID of the resource (a cluster)"),
    Param("resourcetype", required=True, description="Type of the resource: Cluster"),
]


@api_command(
    "registerExtension",
    params=[*_RESOURCE_PARAMS,
            Param("details", ParamType.MAP, description="Details in key/value pairs for the resource map")],
    description="Register the extension with a resource",
    response=EXTENSION,
    since="4.21.0",
)
def register_extension(call: Call) -> ObjectResponse:
    extension = store.get_extension(call.session, call.get("extensionid"), parameter="extensionid")
    call.services.extensions.register(
        call.session, extension, resource_id=call.get("resourceid"), resource_type=call.get("resourcetype"),
        details=call.map_param("details"),
    )
    _audit(call, "EXTENSION.RESOURCE.REGISTER",
           f"Registered extension {extension.name} with {call.get('resourcetype')} {call.get('resourceid')}",
           extension)
    return _full(call, extension)


@api_command(
    "unregisterExtension",
    params=_RESOURCE_PARAMS,
    description="Unregister the extension from a resource",
    response=EXTENSION,
    since="4.21.0",
)
def unregister_extension(call: Call) -> ObjectResponse:
    extension = store.get_extension(call.session, call.get("extensionid"), parameter="extensionid")
    call.services.extensions.unregister(
        call.session, extension, resource_id=call.get("resourceid"), resource_type=call.get("resourcetype"),
    )
    _audit(call, "EXTENSION.RESOURCE.UNREGISTER",
           f"Unregistered extension {extension.name} from {call.get('resourcetype')} {call.get('resourceid')}",
           extension)
    return _full(call, extension)
