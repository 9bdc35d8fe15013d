"""Offering commands: createServiceOffering, listServiceOfferings, updateServiceOffering,
deleteServiceOffering, and listNetworkOfferings."""

from __future__ import annotations

from typing import Any

from switchboard.api.call import Call
from switchboard.api.commands.infra_common import audit, listing, map_param, page_of
from switchboard.api.params import Param, ParamType, format_date
from switchboard.api.registry import api_command
from switchboard.api.responses import ListResponse, ObjectResponse, SuccessResponse
from switchboard.db.models.infrastructure import NetworkOffering, ServiceOffering, ServiceOfferingDetail
from switchboard.infra import details as detail_store
from switchboard.infra import offerings
from switchboard.roles import ALL_ROLES


def service_offering_view(offering: ServiceOffering, details: dict[str, str] | None) -> dict[str, Any]:
    """CloudStack's ServiceOfferingResponse; `serviceofferingdetails` only for admins."""
    fields: dict[str, Any] = {
        "id": offering.uuid,
        "name": offering.name,
        "displaytext": offering.display_text,
        "cpunumber": offering.cpu,
        "cpuspeed": offering.speed,
        "memory": offering.ram_size,
        "created": format_date(offering.created),
        "storagetype": offering.storage_type,
        "provisioningtype": offering.provisioning_type,
        "offerha": offering.offer_ha,
        "limitcpuuse": offering.limit_cpu_use,
        "isvolatile": offering.is_volatile,
        "hosttags": offering.host_tag,
        "issystem": offering.is_system,
        "defaultuse": offering.default_use,
        "iscustomized": offering.cpu is None,
        "iscustomizediops": False,
        "dynamicscalingenabled": offering.dynamic_scaling_enabled,
        "diskofferingstrictness": False,
        "encryptroot": False,
        "rootdisksize": offering.root_disk_size,
        "state": offering.state,
        "hasannotations": False,
    }
    if details is not None:
        fields["serviceofferingdetails"] = details
    return {key: value for key, value in fields.items() if value is not None}


def _details(call: Call, offering_ids: list[int]) -> dict[int, dict[str, str]] | None:
    if not call.who.is_admin:
        return None
    return detail_store.all_details(call.session, ServiceOfferingDetail, offering_ids)


@api_command(
    "createServiceOffering",
    params=[
        Param("name", required=True, description="the name of the service offering"),
        Param("displaytext", description="The display text of the service offering", length=4096),
        Param("cpunumber", ParamType.INTEGER, description="the CPU number of the service offering"),
        Param("cpuspeed", ParamType.INTEGER, description="the CPU speed of the service offering in MHz"),
        Param("memory", ParamType.INTEGER, description="the total memory of the service offering in MB"),
        Param("offerha", ParamType.BOOLEAN, description="the HA for the service offering"),
        Param("limitcpuuse", ParamType.BOOLEAN, description="restrict the CPU usage to committed service offering"),
        Param("isvolatile", ParamType.BOOLEAN, description="true if the virtual machine needs to be volatile"),
        Param("dynamicscalingenabled", ParamType.BOOLEAN, description="true if the offering allows dynamic "
              "scaling"),
        Param("hosttags", description="the host tag for this service offering"),
        Param("storagetype", description="the storage type of the service offering: local or shared"),
        Param("provisioningtype", description="provisioning type used to create volumes: thin, sparse, fat"),
        Param("rootdisksize", ParamType.LONG, description="the Root disk size in GB"),
        Param("externaldetails", ParamType.MAP, description="details in key/value pairs for the extension",
              since="4.21.0"),
        Param("serviceofferingdetails", ParamType.MAP, description="details for planner, used to store specific "
              "parameters"),
        Param("details", ParamType.MAP, description="offering details in key/value pairs (merged with "
              "serviceofferingdetails)"),
        Param("issystem", ParamType.BOOLEAN, description="is this a system vm offering (only false supported)"),
    ],
    description="Creates a service offering.",
    response_object="serviceoffering",
)
def create_service_offering(call: Call) -> ObjectResponse:
    spec = offerings.OfferingSpec(
        name=call.get("name"), display_text=call.get("displaytext"), cpu=call.get("cpunumber"),
        speed=call.get("cpuspeed"), memory=call.get("memory"), offer_ha=bool(call.get("offerha")),
        limit_cpu_use=bool(call.get("limitcpuuse")), is_volatile=bool(call.get("isvolatile")),
        dynamic_scaling_enabled=call.get("dynamicscalingenabled", True), host_tag=call.get("hosttags"),
        storage_type=call.get("storagetype") or "shared", provisioning_type=call.get("provisioningtype") or "thin",
        root_disk_size=call.get("rootdisksize"), external_details=map_param(call, "externaldetails"),
        details={**(map_param(call, "details") or {}), **(map_param(call, "serviceofferingdetails") or {})},
    )
    offering = offerings.create_service_offering(call.session, spec)
    audit(call, "SERVICE.OFFERING.CREATE", f"Created service offering {offering.name}",
          resource_type="ServiceOffering", resource_uuid=offering.uuid)
    details = _details(call, [offering.id])
    shown = details[offering.id] if details is not None else None
    return ObjectResponse("serviceoffering", service_offering_view(offering, shown))


@api_command(
    "listServiceOfferings",
    params=[
        Param("id", ParamType.UUID, description="ID of the service offering"),
        Param("name", description="name of the service offering"),
        Param("issystem", ParamType.BOOLEAN, description="is this a system vm offering"),
        Param("cpunumber", ParamType.INTEGER, description="the CPU number that listed offerings must support"),
        Param("memory", ParamType.INTEGER, description="the RAM memory that listed offering must support"),
        Param("zoneid", ParamType.UUID, description="id of zone disk offering is associated with"),
        Param("domainid", ParamType.UUID, description="the ID of the domain associated with the service offering"),
        Param("virtualmachineid", ParamType.UUID, description="the ID of the virtual machine (ignored)"),
    ],
    roles=ALL_ROLES,
    description="Lists all available service offerings.",
    response_object="serviceoffering",
    is_list=True,
)
def list_service_offerings(call: Call) -> ListResponse:
    found, total = offerings.list_service_offerings(
        call.session, page_of(call), uuid=call.get("id"), name=call.get("name"),
        is_system=bool(call.get("issystem")), cpu=call.get("cpunumber"), memory=call.get("memory"),
    )
    details = _details(call, [o.id for o in found])
    return listing("serviceoffering", found, total,
                   lambda o: service_offering_view(o, details[o.id] if details is not None else None))


@api_command(
    "updateServiceOffering",
    params=[
        Param("id", ParamType.UUID, required=True, description="the ID of the service offering to be updated"),
        Param("name", description="the name of the service offering to be updated"),
        Param("displaytext", description="the display text of the service offering to be updated", length=4096),
        Param("sortkey", ParamType.INTEGER, description="sort key of the service offering"),
        Param("hosttags", description="the host tag for this service offering"),
        Param("externaldetails", ParamType.MAP, description="details in key/value pairs for the extension "
              "(replace the current ones)", since="4.21.0"),
        Param("cleanupexternaldetails", ParamType.BOOLEAN, description="remove all external details"),
    ],
    description="Updates a service offering.",
    response_object="serviceoffering",
)
def update_service_offering(call: Call) -> ObjectResponse:
    offering = offerings.get_service_offering(call.session, call.get("id"), parameter="id")
    offerings.update_service_offering(
        call.session, offering, name=call.get("name"), display_text=call.get("displaytext"),
        sort_key=call.get("sortkey"), host_tag=call.get("hosttags"),
        external_details=map_param(call, "externaldetails"),
        clean_up_external_details=bool(call.get("cleanupexternaldetails")),
    )
    details = _details(call, [offering.id])
    shown = details[offering.id] if details is not None else None
    return ObjectResponse("serviceoffering", service_offering_view(offering, shown))


@api_command(
    "deleteServiceOffering",
    params=[Param("id", ParamType.UUID, required=True, description="the ID of the service offering")],
    description="Deletes a service offering.",
)
def delete_service_offering(call: Call) -> SuccessResponse:
    offering = offerings.get_service_offering(call.session, call.get("id"), parameter="id")
    offerings.delete_service_offering(call.session, offering)
    audit(call, "SERVICE.OFFERING.DELETE", f"Deleted service offering {offering.name}",
          resource_type="ServiceOffering", resource_uuid=offering.uuid)
    return SuccessResponse()


def network_offering_view(offering: NetworkOffering) -> dict[str, Any]:
    """CloudStack's NetworkOfferingResponse."""
    services = [name for name in offering.services.split(",") if name]
    return {
        "id": offering.uuid,
        "name": offering.name,
        "displaytext": offering.display_text,
        "traffictype": offering.traffic_type,
        "isdefault": offering.is_default,
        "specifyvlan": offering.specify_vlan,
        "conservemode": offering.conserve_mode,
        "specifyipranges": offering.specify_ip_ranges,
        "availability": offering.availability,
        "networkrate": offering.network_rate if offering.network_rate is not None else -1,
        "state": offering.state,
        "guestiptype": offering.guest_type,
        "ispersistent": offering.is_persistent,
        "forvpc": offering.for_vpc,
        "fornsx": False,
        "egressdefaultpolicy": False,
        "supportsstrechedl2subnet": False,
        "supportspublicaccess": False,
        "internetprotocol": "IPv4",
        "service": [{"name": name, "provider": [{"name": "VirtualRouter"}]} for name in services],
        "created": format_date(offering.created),
        "hasannotations": False,
    }


@api_command(
    "listNetworkOfferings",
    params=[
        Param("id", ParamType.UUID, description="list network offerings by ID"),
        Param("name", description="list network offerings by name"),
        Param("guestiptype", description="list network offerings by guest type: shared, l2 or isolated"),
        Param("traffictype", description="list by traffic type"),
        Param("specifyvlan", ParamType.BOOLEAN, description="the tags for the network offering"),
        Param("isdefault", ParamType.BOOLEAN, description="true if need to list only default network offerings"),
        Param("state", description="list network offerings by state"),
        Param("zoneid", ParamType.UUID, description="list network offerings available for network creation in "
              "specific zone"),
        Param("forvpc", ParamType.BOOLEAN, description="the network offering can be used only for network "
              "creation inside the VPC"),
    ],
    roles=ALL_ROLES,
    description="Lists all available network offerings.",
    response_object="networkoffering",
    is_list=True,
)
def list_network_offerings(call: Call) -> ListResponse:
    guest_type = call.get("guestiptype")
    if guest_type is not None:
        guest_type = {"l2": "L2", "isolated": "Isolated", "shared": "Shared"}.get(guest_type.lower(), guest_type)
    if call.get("forvpc"):
        return ListResponse("networkoffering", [])
    found, total = offerings.list_network_offerings(
        call.session, page_of(call), uuid=call.get("id"), name=call.get("name"), guest_type=guest_type,
        specify_vlan=call.get("specifyvlan"), is_default=call.get("isdefault"), state=call.get("state"),
        traffic_type=call.get("traffictype"),
    )
    return listing("networkoffering", found, total, network_offering_view)
