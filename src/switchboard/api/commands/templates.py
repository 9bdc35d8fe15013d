"""Template commands: registerTemplate, listTemplates, updateTemplate, updateTemplatePermissions,
deleteTemplate, and listOsTypes / listOsCategories for the OS types templates refer to."""

from __future__ import annotations

import uuid
from typing import Any

from switchboard.api.audit import audit
from switchboard.api.call import Call
from switchboard.api.commands.tags import TAGS_PARAM, tag_filter, tag_views
from switchboard.api.paging import listing, page_of
from switchboard.api.params import Param, ParamType, format_date
from switchboard.api.registry import api_command
from switchboard.api.responses import AsyncJobRequest, ListResponse, ObjectResponse, SuccessResponse
from switchboard.api.shapes import SUCCESS, Field, Shape, T
from switchboard.api.views.fields import (
    EXTENSION_FIELDS,
    HAS_ANNOTATIONS_FIELD,
    OWNER_FIELDS,
    TAGS_FIELD,
    extension_fields,
    owner_fields,
)
from switchboard.db.models.infrastructure import GuestOs, GuestOsCategory, Template, TemplateDetail, Zone
from switchboard.errors import InvalidParameter
from switchboard.infra import details as detail_store
from switchboard.infra import guest_os, templates, zones
from switchboard.infra.common import Page, one_of
from switchboard.infra.extension_link import ExtensionRef
from switchboard.infra.jobs import DELETE_TEMPLATE_JOB
from switchboard.infra.owners import resolve_owner
from switchboard.infra.templates import TemplateFilter, TemplateRecord
from switchboard.roles import ALL_ROLES

ALL_ZONES = "-1"


TEMPLATE = Shape("template", [
    Field("id", T.STRING, "the template ID"),
    Field("name", T.STRING, "the template name"),
    Field("displaytext", T.STRING, "the template display text"),
    Field("ispublic", T.BOOLEAN, "true if this template is a public template, false otherwise"),
    Field("isfeatured", T.BOOLEAN, "true if this template is a featured template, false otherwise"),
    Field("isextractable", T.BOOLEAN, "true if the template is extractable, false otherwise"),
    Field("isready", T.BOOLEAN, "true if the template is ready to be deployed from, false otherwise."),
    Field("status", T.STRING, "the status of the template"),
    Field("passwordenabled", T.BOOLEAN, "true if the reset password feature is enabled, false otherwise"),
    Field("format", T.STRING, "the format of the template."),
    Field("hypervisor", T.STRING, "the hypervisor on which the template runs"),
    Field("templatetype", T.STRING, "the type of the template"),
    Field("crossZones", T.BOOLEAN, "true if the template is managed across all Zones, false otherwise"),
    Field("zoneid", T.STRING, "the ID of the zone for this template"),
    Field("zonename", T.STRING, "the name of the zone for this template"),
    Field("created", T.DATE, "the date this template was created"),
    Field("size", T.LONG, "the size of the template"),
    Field("bootable", T.BOOLEAN, "true if the ISO is bootable, false otherwise"),
    Field("isdynamicallyscalable", T.BOOLEAN, "true if template contains XS/VMWare tools inorder to support "
          "dynamic scaling of VM cpu/memory"),
    Field("requireshvm", T.BOOLEAN, "true if template requires HVM enabled, false otherwise"),
    Field("sshkeyenabled", T.BOOLEAN, "true if template is sshkey enabled, false otherwise"),
    Field("directdownload", T.BOOLEAN, "KVM Only: true if template is directly downloaded to Primary Storage "
          "bypassing Secondary Storage"),
    Field("deployasis", T.BOOLEAN, "VMware only: true if template is deployed without orchestrating disks and "
          "networks but \"as-is\" defined in the template."),
    Field("arch", T.STRING, "CPU Arch of the template"),
    Field("state", T.STRING, "the state of the template"),
    Field("checksum", T.STRING, "checksum of the template"),
    Field("url", T.STRING, "the URL which the template/iso is registered from"),
    Field("details", T.MAP, "additional key/value details tied with template"),
    TAGS_FIELD,
    HAS_ANNOTATIONS_FIELD,
    *OWNER_FIELDS,
    *EXTENSION_FIELDS,
    Field("ostypeid", T.STRING, "the ID of the OS type for this template."),
    Field("ostypename", T.STRING, "the name of the OS type for this template."),
])


def template_view(record: TemplateRecord, details: dict[str, str], refs: dict[int, ExtensionRef]) -> dict[str, Any]:
    """CloudStack's TemplateResponse for one template in one zone."""
    template, placement = record.template, record.placement
    fields: dict[str, Any] = {
        "id": template.uuid,
        "name": template.name,
        "displaytext": template.display_text,
        "ispublic": template.is_public,
        "isfeatured": template.is_featured,
        "isextractable": template.is_extractable,
        "isready": placement.ready,
        "status": placement.status,
        "passwordenabled": template.password_enabled,
        "format": template.format,
        "hypervisor": template.hypervisor_type,
        "templatetype": template.template_type,
        "crossZones": template.cross_zones,
        "zoneid": record.zone.uuid,
        "zonename": record.zone.name,
        "created": format_date(template.created),
        "size": template.size,
        "bootable": template.bootable,
        "isdynamicallyscalable": template.dynamically_scalable,
        "requireshvm": template.requires_hvm,
        "sshkeyenabled": False,
        "directdownload": False,
        "deployasis": False,
        "arch": template.arch,
        "state": template.state,
        "checksum": template.checksum,
        "url": template.url,
        "details": details,
        "tags": [],
        "hasannotations": False,
        **owner_fields(record.account, record.domain),
        **extension_fields(refs, template.extension_id),
    }
    if record.guest_os is not None:
        fields["ostypeid"] = record.guest_os.uuid
        fields["ostypename"] = record.guest_os.display_name
    return {key: value for key, value in fields.items() if value is not None}


def _render(call: Call, records: list[TemplateRecord], total: int) -> ListResponse:
    """One query for all details and one for all extension names, whatever the page size."""
    template_ids = [r.template.id for r in records]
    details = detail_store.all_details(call.session, TemplateDetail, template_ids)
    ids = {r.template.extension_id for r in records if r.template.extension_id is not None}
    refs = call.services.linker.describe(call.session, ids) if ids else {}
    # External details may carry the extension's settings: only admins and owners see them.
    caller = call.who

    tagged = tag_views(call, "Template", template_ids)

    def view(record: TemplateRecord) -> dict[str, Any]:
        shown = details[record.template.id]
        if not (caller.is_admin or record.template.account_id == caller.account_id):
            shown = detail_store.plain_only(shown)
        return {**template_view(record, shown, refs), "tags": tagged.get(record.template.id, [])}

    return listing("template", records, total, view)


def _zones(call: Call) -> list[Zone]:
    zone_id: str | None = call.get("zoneid")
    zone_ids: list[str] = call.get("zoneids") or []
    if zone_id == ALL_ZONES or ALL_ZONES in zone_ids:
        return list(zones.all_zones(call.session))
    if zone_id is not None:
        zone_ids = [zone_id, *zone_ids]
    if not zone_ids:
        raise InvalidParameter("Either zoneid or zoneids is required", parameter="zoneid")
    return [zones.get_zone(call.session, _uuid(value, "zoneid"), parameter="zoneid") for value in zone_ids]


def _uuid(value: str, parameter: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidParameter(f"Invalid zone id {value}", parameter=parameter) from None


@api_command(
    "registerTemplate",
    params=[
        Param("name", required=True, description="the name of the template"),
        Param("displaytext", description="the display text of the template", length=4096),
        Param("format", required=True, description="the format for the template: EXTERNAL, QCOW2, RAW, ..."),
        Param("hypervisor", required=True, description="the target hypervisor for the template"),
        Param("url", required=True, description="the URL of where the template is hosted (any for External)",
              length=2048),
        Param("zoneid", description="the ID of the zone the template is to be hosted on, -1 for all zones"),
        Param("zoneids", ParamType.LIST, description="a list of zone ids where the template will be hosted"),
        Param("ostypeid", ParamType.UUID, description="the ID of the OS Type that best represents the OS"),
        Param("extensionid", ParamType.UUID, description="the ID of the extension for the template (External)",
              since="4.21.0"),
        Param("externaldetails", ParamType.MAP, description="details in key/value pairs for the extension",
              since="4.21.0"),
        Param("details", ParamType.MAP, description="Template details in key/value pairs"),
        Param("ispublic", ParamType.BOOLEAN, description="true if the template is available to all accounts"),
        Param("isfeatured", ParamType.BOOLEAN, description="true if this template is a featured template"),
        Param("isextractable", ParamType.BOOLEAN, description="true if the template or its derivatives are "
              "extractable"),
        Param("passwordenabled", ParamType.BOOLEAN, description="true if the template supports the password "
              "reset feature"),
        Param("isdynamicallyscalable", ParamType.BOOLEAN, description="true if template contains XS/VMWare tools"),
        Param("requireshvm", ParamType.BOOLEAN, description="true if this template requires HVM"),
        Param("arch", description="the CPU arch of the template: x86_64, aarch64"),
        Param("checksum", description="the checksum value of this template"),
        Param("templatetag", description="the tag for this template"),
        Param("sshkeyenabled", ParamType.BOOLEAN, description="true if the template supports the sshkey upload"),
        Param("directdownload", ParamType.BOOLEAN, description="true if template should bypass secondary storage"),
        Param("deployasis", ParamType.BOOLEAN, description="true if the template should be deployed as is"),
        Param("account", description="an optional accountName; must be used with domainId"),
        Param("domainid", ParamType.UUID, description="an optional domainId; if the account parameter is used, "
              "domainId must also be used"),
    ],
    roles=ALL_ROLES,
    description="Registers an existing template into the CloudStack cloud.",
    response=TEMPLATE,
)
def register_template(call: Call) -> ListResponse:
    target_zones = _zones(call)
    os_type = guest_os.get_os_type(call.session, call.get("ostypeid")) if call.get("ostypeid") else None
    spec = templates.TemplateSpec(
        name=call.get("name"), display_text=call.get("displaytext"), url=call.get("url"),
        format=call.get("format"), hypervisor=call.get("hypervisor"), guest_os=os_type,
        extension=call.extension_param(purpose="template"),
        external_details=call.map_param("externaldetails"), details=call.map_param("details"),
        is_public=bool(call.get("ispublic")), is_featured=bool(call.get("isfeatured")),
        is_extractable=bool(call.get("isextractable")), password_enabled=bool(call.get("passwordenabled")),
        dynamically_scalable=bool(call.get("isdynamicallyscalable")),
        requires_hvm=call.get("requireshvm", True), arch=call.get("arch") or "x86_64",
        checksum=call.get("checksum"),
    )
    owner = resolve_owner(call.session, call.who, account=call.get("account"), domain_uuid=call.get("domainid"))
    template = templates.register_template(call.session, call.who, target_zones, spec, owner=owner)
    audit(call, "TEMPLATE.CREATE", f"Registered template {template.name}", resource_type="Template",
          resource_uuid=template.uuid)
    records, total = templates.list_templates(call.session, call.who, TemplateFilter.ALL, Page(), uuid=template.uuid)
    return _render(call, records, total)


@api_command(
    "listTemplates",
    params=[
        Param("templatefilter", required=True, description="possible values are \"featured\", \"self\", "
              "\"selfexecutable\", \"sharedexecutable\", \"executable\", \"community\" and \"all\""),
        Param("id", ParamType.UUID, description="the template ID"),
        Param("ids", ParamType.LIST, item_type=ParamType.UUID, description="the IDs of the templates"),
        Param("name", description="the template name"),
        Param("zoneid", ParamType.UUID, description="list templates by zoneId"),
        Param("hypervisor", description="the hypervisor for which to restrict the search"),
        Param("extensionid", ParamType.UUID, description="the ID of the extension for the template",
              since="4.21.0"),
        Param("arch", description="the CPU arch of the template"),
        Param("showremoved", ParamType.BOOLEAN, description="show removed templates as well (ignored)"),
        Param("details", ParamType.LIST, description="comma separated list of template details requested"),
        TAGS_PARAM,
    ],
    roles=ALL_ROLES,
    description="List all public, private, and privileged templates.",
    response=TEMPLATE,
    is_list=True,
)
def list_templates(call: Call) -> ListResponse:
    template_filter = TemplateFilter(one_of(call.get("templatefilter"), [f.value for f in TemplateFilter],
                                            parameter="templatefilter"))
    extension_id = None
    if call.get("extensionid"):
        extension_id = call.services.linker.resolve(call.session, call.get("extensionid"), parameter="extensionid",
                                            purpose="template").id
    records, total = templates.list_templates(
        call.session, call.who, template_filter, page_of(call), uuid=call.get("id"), uuids=call.get("ids"),
        name=call.get("name"),
        zone_id=zones.get_zone(call.session, call.get("zoneid")).id if call.get("zoneid") else None,
        hypervisor=call.get("hypervisor"), extension_id=extension_id, arch=call.get("arch"),
        tagged=tag_filter(call, "Template", Template.id),
    )
    return _render(call, records, total)


@api_command(
    "updateTemplate",
    params=[
        Param("id", ParamType.UUID, required=True, description="the ID of the image file"),
        Param("name", description="the name of the image file"),
        Param("displaytext", description="the display text of the image", length=4096),
        Param("ostypeid", ParamType.UUID, description="the ID of the OS type that best represents the OS"),
        Param("passwordenabled", ParamType.BOOLEAN, description="true if the image supports the password reset"),
        Param("bootable", ParamType.BOOLEAN, description="true if image is bootable, false otherwise"),
        Param("isdynamicallyscalable", ParamType.BOOLEAN, description="true if template contains XS/VMWare tools"),
        Param("arch", description="the CPU arch of the template"),
        Param("details", ParamType.MAP, description="Details in key/value pairs (replace the current ones)"),
        Param("cleanupdetails", ParamType.BOOLEAN, description="optional boolean field, which indicates if "
              "details should be cleaned up or not"),
        Param("externaldetails", ParamType.MAP, description="details in key/value pairs for the extension "
              "(replace the current ones)", since="4.21.0"),
    ],
    roles=ALL_ROLES,
    description="Updates attributes of a template.",
    response=TEMPLATE,
)
def update_template(call: Call) -> ObjectResponse:
    template = templates.get_template(call.session, call.get("id"))
    templates.check_owner(call.session, call.who, template)
    os_type = guest_os.get_os_type(call.session, call.get("ostypeid")) if call.get("ostypeid") else None
    templates.update_template(
        call.session, template, name=call.get("name"), display_text=call.get("displaytext"), guest_os=os_type,
        password_enabled=call.get("passwordenabled"), bootable=call.get("bootable"),
        dynamically_scalable=call.get("isdynamicallyscalable"), arch=call.get("arch"),
        details=call.map_param("details"), external_details=call.map_param("externaldetails"),
        clean_up_details=bool(call.get("cleanupdetails")),
    )
    records, total = templates.list_templates(call.session, call.who, TemplateFilter.ALL, Page(), uuid=template.uuid)
    return ObjectResponse("template", _render(call, records, total).items[0])


@api_command(
    "updateTemplatePermissions",
    params=[
        Param("id", ParamType.UUID, required=True, description="the template ID", entity="template"),
        Param("ispublic", ParamType.BOOLEAN, description="true for public template/iso, false for private"),
        Param("isfeatured", ParamType.BOOLEAN, description="true for featured template/iso, false otherwise"),
        Param("isextractable", ParamType.BOOLEAN, description="true if the template/iso is extractable"),
    ],
    roles=ALL_ROLES,
    description="Updates a template visibility permissions.",
    response=SUCCESS,
)
def update_template_permissions(call: Call) -> SuccessResponse:
    template = templates.get_template(call.session, call.get("id"))
    templates.check_owner(call.session, call.who, template)
    templates.update_permissions(call.session, call.who, template, is_public=call.get("ispublic"),
                                 is_featured=call.get("isfeatured"), is_extractable=call.get("isextractable"))
    return SuccessResponse()


@api_command(
    "deleteTemplate",
    params=[
        Param("id", ParamType.UUID, required=True, description="the ID of the template"),
        Param("zoneid", ParamType.UUID, description="the ID of zone of the template"),
        Param("forced", ParamType.BOOLEAN, description="Force delete a template (ignored)"),
    ],
    roles=ALL_ROLES,
    description="Deletes a template from the system.",
    response=SUCCESS,
    is_async=True,
)
def delete_template(call: Call) -> AsyncJobRequest:
    template = templates.get_template(call.session, call.get("id"))
    templates.check_owner(call.session, call.who, template)
    zone_uuid = call.get("zoneid")
    if zone_uuid is not None:
        zones.get_zone(call.session, zone_uuid)
    return AsyncJobRequest(handler=DELETE_TEMPLATE_JOB, args={"id": template.uuid, "zoneid": zone_uuid},
                           instance_type="Template", instance_id=template.uuid)


OS_TYPE = Shape("ostype", [
    Field("id", T.STRING, "the ID of the OS type"),
    Field("name", T.STRING, "the name of the OS type"),
    Field("description", T.STRING, "the name/description of the OS type"),
    Field("oscategoryid", T.STRING, "the ID of the OS category"),
    Field("oscategoryname", T.STRING, "the name of the OS category"),
    Field("isuserdefined", T.BOOLEAN, "is the guest OS user defined"),
    Field("fordisplay", T.BOOLEAN, "is the guest OS visible for the users"),
])
OS_CATEGORY = Shape("oscategory", [
    Field("id", T.STRING, "the ID of the OS category"),
    Field("name", T.STRING, "the name of the OS category"),
])


def os_type_view(os_type: GuestOs, category: GuestOsCategory) -> dict[str, Any]:
    return {
        "id": os_type.uuid,
        "name": os_type.display_name,
        "description": os_type.display_name,
        "oscategoryid": category.uuid,
        "oscategoryname": category.name,
        "isuserdefined": os_type.is_user_defined,
        "fordisplay": True,
    }


@api_command(
    "listOsTypes",
    params=[
        Param("id", ParamType.UUID, description="list by Os type Id"),
        Param("oscategoryid", ParamType.UUID, description="list by Os Category id"),
        Param("description", description="list os by description"),
    ],
    roles=ALL_ROLES,
    description="Lists all supported OS types for this cloud.",
    response=OS_TYPE,
    is_list=True,
)
def list_os_types(call: Call) -> ListResponse:
    found, total = guest_os.list_os_types(call.session, page_of(call), uuid=call.get("id"),
                                          description=call.get("description"),
                                          category_uuid=call.get("oscategoryid"))
    return listing("ostype", found, total, lambda row: os_type_view(*row))


@api_command(
    "listOsCategories",
    params=[Param("id", ParamType.UUID, description="list Os category by id"),
            Param("name", description="list os category by name")],
    roles=ALL_ROLES,
    description="Lists all supported OS categories for this cloud.",
    response=OS_CATEGORY,
    is_list=True,
)
def list_os_categories(call: Call) -> ListResponse:
    found = [c for c in guest_os.list_categories(call.session)
             if (call.get("id") in (None, c.uuid)) and (call.get("name") in (None, c.name))]
    return listing("oscategory", found, len(found), lambda c: {"id": c.uuid, "name": c.name})
