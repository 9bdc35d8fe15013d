"""Offering commands: createServiceOffering, listServiceOfferings, updateServiceOffering,
deleteServiceOffering, and listNetworkOfferings."""

from __future__ import annotations

from typing import Any

from switchboard.api.audit import audit
from switchboard.api.call import Call
from switchboard.api.paging import listing, page_of
from switchboard.api.params import Param, ParamType, format_date
from switchboard.api.registry import api_command
from switchboard.api.responses import ListResponse, ObjectResponse, SuccessResponse
from switchboard.api.shapes import SUCCESS, Field, Shape, T
from switchboard.api.views.fields import HAS_ANNOTATIONS_FIELD
from switchboard.db.models.infrastructure import NetworkOffering, ServiceOffering, ServiceOfferingDetail
from switchboard.infra import details as detail_store
from switchboard.infra import offerings
from switchboard.roles import ALL_ROLES

SERVICE_OFFERING = Shape("serviceoffering", [
    Field("id", T.STRING, "the id of the service offering"),
    Field("name", T.STRING, "the name of the service offering"),
    Field("displaytext", T.STRING, "an alternate display text of the service offering."),
    Field("cpunumber", T.INTEGER, "the number of CPU"),
    Field("cpuspeed", T.INTEGER, "the clock rate CPU speed in Mhz"),
    Field("memory", T.INTEGER, "the memory in MB"),
    Field("created", T.DATE, "the date this service offering was created"),
    Field("storagetype", T.STRING, "the storage type for this service offering"),
    Field("provisioningtype", T.STRING, "provisioning type used to create volumes. Valid values are thin, sparse, "
          "fat."),
    Field("offerha", T.BOOLEAN, "the ha support in the service offering"),
    Field("limitcpuuse", T.BOOLEAN, "restrict the CPU usage to committed service offering"),
    Field("isvolatile", T.BOOLEAN, "true if the vm needs to be volatile, i.e., on every reboot of vm from API "
          "root disk is discarded and creates a new root disk"),
    Field("hosttags", T.STRING, "the host tag for the service offering"),
    Field("issystem", T.BOOLEAN, "is this a system vm offering"),
    Field("defaultuse", T.BOOLEAN, "is this a  default system vm offering"),
    Field("iscustomized", T.BOOLEAN, "is true if the offering is customized"),
    Field("iscustomizediops", T.BOOLEAN, "true if disk offering uses custom iops, false otherwise"),
    Field("dynamicscalingenabled", T.BOOLEAN, "true if virtual machine needs to be dynamically scalable of cpu or "
          "memory"),
    Field("diskofferingstrictness", T.BOOLEAN, "True/False to indicate the strictness of the disk offering "
          "association with the compute offering."),
    Field("encryptroot", T.BOOLEAN, "true if virtual machine root disk will be encrypted on storage"),
    Field("rootdisksize", T.LONG, "Root disk size in GB"),
    Field("state", T.STRING, "state of the service offering"),
    HAS_ANNOTATIONS_FIELD,
    Field("serviceofferingdetails", T.MAP, "additional key/value details tied with this service offering"),
])


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
    response=SERVICE_OFFERING,
)
def create_service_offering(call: Call) -> ObjectResponse:
    spec = offerings.OfferingSpec(
        name=call.get("name"), display_text=call.get("displaytext"), cpu=call.get("cpunumber"),
        speed=call.get("cpuspeed"), memory=call.get("memory"), offer_ha=bool(call.get("offerha")),
        limit_cpu_use=bool(call.get("limitcpuuse")), is_volatile=bool(call.get("isvolatile")),
        dynamic_scaling_enabled=call.get("dynamicscalingenabled", True), host_tag=call.get("hosttags"),
        storage_type=call.get("storagetype") or "shared", provisioning_type=call.get("provisioningtype") or "thin",
        root_disk_size=call.get("rootdisksize"), external_details=call.map_param("externaldetails"),
        details={**(call.map_param("details") or {}), **(call.map_param("serviceofferingdetails") or {})},
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
    response=SERVICE_OFFERING,
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
    response=SERVICE_OFFERING,
)
def update_service_offering(call: Call) -> ObjectResponse:
    offering = offerings.get_service_offering(call.session, call.get("id"), parameter="id")
    offerings.update_service_offering(
        call.session, offering, name=call.get("name"), display_text=call.get("displaytext"),
        sort_key=call.get("sortkey"), host_tag=call.get("hosttags"),
        external_details=call.map_param("externaldetails"),
        clean_up_external_details=bool(call.get("cleanupexternaldetails")),
    )
    details = _details(call, [offering.id])
    shown = details[offering.id] if details is not None else None
    return ObjectResponse("serviceoffering", service_offering_view(offering, shown))


@api_command(
    "deleteServiceOffering",
    params=[Param("id", ParamType.UUID, required=True, description="the ID of the service offering")],
    description="Deletes a service offering.",
    response=SUCCESS,
)
def delete_service_offering(call: Call) -> SuccessResponse:
    offering = offerings.get_service_offering(call.session, call.get("id"), parameter="id")
    offerings.delete_service_offering(call.session, offering)
    audit(call, "SERVICE.OFFERING.DELETE", f"Deleted service offering {offering.name}",
          resource_type="ServiceOffering", resource_uuid=offering.uuid)
    return SuccessResponse()


_PROVIDER = Shape("provider", [Field("name", T.STRING, "the provider name")])
_SERVICE = Shape("service", [
    Field("name", T.STRING, "the service name"),
    Field("provider", T.LIST, "the service provider name", shape=_PROVIDER),
])
NETWORK_OFFERING = Shape("networkoffering", [
    Field("id", T.STRING, "the id of the network offering"),
    Field("name", T.STRING, "the name of the network offering"),
    Field("displaytext", T.STRING, "an alternate display text of the network offering."),
    Field("traffictype", T.STRING, "the traffic type for the network offering, supported types are Public, "
          "Management, Control, Guest, Vlan or Storage."),
    Field("isdefault", T.BOOLEAN, "true if network offering is default, false otherwise"),
    Field("specifyvlan", T.BOOLEAN, "true if network offering supports vlans, false otherwise"),
    Field("conservemode", T.BOOLEAN, "true if network offering is ip conserve mode enabled"),
    Field("specifyipranges", T.BOOLEAN, "true if network offering supports specifying ip ranges, false otherwise"),
    Field("availability", T.STRING, "availability of the network offering"),
    Field("networkrate", T.INTEGER, "data transfer rate in megabits per second allowed."),
    Field("state", T.STRING, "state of the network offering. Can be Disabled/Enabled/Inactive"),
    Field("guestiptype", T.STRING, "guest type of the network offering, can be Shared or Isolated"),
    Field("ispersistent", T.BOOLEAN, "true if network offering supports persistent networks, false otherwise"),
    Field("forvpc", T.BOOLEAN, "true if network offering can be used by VPC networks only"),
    Field("fornsx", T.BOOLEAN, "true if network offering can be used by NSX networks only"),
    Field("egressdefaultpolicy", T.BOOLEAN, "true if guest network default egress policy is allow; false if "
          "default egress policy is deny"),
    Field("supportsstrechedl2subnet", T.BOOLEAN, "true if network offering supports network that span multiple "
          "zones"),
    Field("supportspublicaccess", T.BOOLEAN, "true if network offering supports public access for guest networks"),
    Field("internetprotocol", T.STRING, "the internet protocol of the network offering"),
    Field("service", T.LIST, "the list of supported services", shape=_SERVICE),
    Field("created", T.DATE, "the date this network offering was created"),
    HAS_ANNOTATIONS_FIELD,
])


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
    response=NETWORK_OFFERING,
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
