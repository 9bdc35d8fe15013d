"""Zone commands: createZone, listZones, updateZone, deleteZone."""

from __future__ import annotations

import operator
from typing import Any

from sqlalchemy import Row

from switchboard.api.audit import audit
from switchboard.api.call import Call
from switchboard.api.paging import listing, page_of
from switchboard.api.params import Param, ParamType
from switchboard.api.registry import api_command
from switchboard.api.responses import ListResponse, ObjectResponse, SuccessResponse
from switchboard.api.shapes import SUCCESS, Field, Shape, T
from switchboard.db.models.infrastructure import Zone
from switchboard.infra import zones
from switchboard.roles import ALL_ROLES

_SETTABLE = [
    Param("dns1", description="the first DNS for the Zone"),
    Param("dns2", description="the second DNS for the Zone"),
    Param("internaldns1", description="the first internal DNS for the Zone"),
    Param("internaldns2", description="the second internal DNS for the Zone"),
    Param("ip6dns1", description="the first DNS for IPv6 network in the Zone"),
    Param("ip6dns2", description="the second DNS for IPv6 network in the Zone"),
    Param("guestcidraddress", description="the guest CIDR address for the Zone"),
    Param("domain", description="Network domain name for the networks in the zone"),
    Param("allocationstate", description="Allocation state of this Zone for allocation of new resources"),
    Param("localstorageenabled", ParamType.BOOLEAN, description="true if local storage offering enabled"),
]


# A ZoneResponse in CloudStack's field order: (the field, the Zone attribute it shows or None for a fixed
# value, the fixed value). The admin's (full) view adds the addresses. Fields whose value is None are left out.
# The ZONE shape is made of these very declarations.
_SHOWN: tuple[tuple[Field, str | None, Any], ...] = (
    (Field("id", T.STRING, "Zone id"), "uuid", None),
    (Field("name", T.STRING, "Zone name"), "name", None),
    (Field("description", T.STRING, "Zone description"), "description", None),
    (Field("networktype", T.STRING, "the network type of the zone; can be Basic or Advanced"), "network_type",
     None),
    (Field("securitygroupsenabled", T.BOOLEAN, "true if security groups support is enabled, false otherwise"),
     "security_groups_enabled", None),
    (Field("allocationstate", T.STRING, "the allocation state of the zone"), "allocation_state", None),
    (Field("zonetoken", T.STRING, "Zone Token"), "zone_token", None),
    (Field("dhcpprovider", T.STRING, "the dhcp Provider for the Zone"), None, "VirtualRouter"),
    (Field("localstorageenabled", T.BOOLEAN, "true if local storage offering enabled, false otherwise"),
     "local_storage_enabled", None),
    (Field("type", T.STRING, "the type of the zone - core or edge"), None, "Core"),
    (Field("tags", T.SET, "the list of resource tags associated with zone."), None, []),
    (Field("hasannotations", T.BOOLEAN, "true if the entity/resource has annotations"), None, False),
    (Field("isnsxenabled", T.BOOLEAN, "true, if zone is NSX enabled"), None, False),
    (Field("allowuserspecifyvrmtu", T.BOOLEAN, "Allow end users to specify VR MTU"), None, False),
)
_ADDRESSES: tuple[tuple[Field, str | None, Any], ...] = (
    (Field("dns1", T.STRING, "the first DNS for the Zone"), "dns1", None),
    (Field("dns2", T.STRING, "the second DNS for the Zone"), "dns2", None),
    (Field("ip6dns1", T.STRING, "the first IPv6 DNS for the Zone"), "ip6_dns1", None),
    (Field("ip6dns2", T.STRING, "the second IPv6 DNS for the Zone"), "ip6_dns2", None),
    (Field("internaldns1", T.STRING, "the first internal DNS for the Zone"), "internal_dns1", None),
    (Field("internaldns2", T.STRING, "the second internal DNS for the Zone"), "internal_dns2", None),
    (Field("guestcidraddress", T.STRING, "the guest CIDR address for the Zone"), "guest_cidr", None),
    (Field("domain", T.STRING, "Network domain name for the networks in the zone"), "network_domain", None),
)
ZONE = Shape("zone", [field for field, _attribute, _fixed in _SHOWN + _ADDRESSES])
_ATTRIBUTES = tuple(attribute for _field, attribute, _fixed in _SHOWN + _ADDRESSES if attribute is not None)
_FROM_ZONE = operator.attrgetter(*_ATTRIBUTES)
# Rows (Row or ZoneRow) are read by position: attribute access on a Row costs more than the whole view.
_FROM_ROW = operator.itemgetter(*(zones.ZONE_ROW_FIELDS.index(attribute) for attribute in _ATTRIBUTES))
# The view is then picked from (attribute values + fixed values) in response order.
_FIXED_VALUES = tuple(fixed for _field, attribute, fixed in _SHOWN if attribute is None)


def _picker(shown: tuple[tuple[Field, str | None, Any], ...]) -> tuple[tuple[str, ...], operator.itemgetter[Any]]:
    positions, fixed_seen = [], 0
    for _field, attribute, _fixed in shown:
        if attribute is None:
            positions.append(len(_ATTRIBUTES) + fixed_seen)
            fixed_seen += 1
        else:
            positions.append(_ATTRIBUTES.index(attribute))
    return tuple(field.name for field, _attribute, _fixed in shown), operator.itemgetter(*positions)


_SHORT_VIEW = _picker(_SHOWN)
_FULL_VIEW = _picker(_SHOWN + _ADDRESSES)


def zone_view(zone: Zone | Row[Any] | zones.ZoneRow, *, full: bool) -> dict[str, Any]:
    """CloudStack's ZoneResponse of a Zone or a `zones.list_zones` row; addresses only in the admin's
    (full) view."""
    values = (_FROM_ZONE(zone) if isinstance(zone, Zone) else _FROM_ROW(zone)) + _FIXED_VALUES
    keys, pick = _FULL_VIEW if full else _SHORT_VIEW
    fields = {key: value for key, value in zip(keys, pick(values), strict=True) if value is not None}
    fields["tags"] = []  # a list of its own for every view (same place in the order)
    return fields


def _spec(call: Call) -> zones.ZoneSpec:
    return zones.ZoneSpec(
        name=call.get("name"), description=call.get("description"), network_type=call.get("networktype"),
        dns1=call.get("dns1"), dns2=call.get("dns2"), internal_dns1=call.get("internaldns1"),
        internal_dns2=call.get("internaldns2"), ip6_dns1=call.get("ip6dns1"), ip6_dns2=call.get("ip6dns2"),
        guest_cidr=call.get("guestcidraddress"), network_domain=call.get("domain"),
        allocation_state=call.get("allocationstate"),
        security_groups_enabled=call.get("securitygroupenabled"),
        local_storage_enabled=call.get("localstorageenabled"),
    )


@api_command(
    "createZone",
    params=[
        Param("name", required=True, description="the name of the Zone"),
        Param("networktype", required=True, description="network type of the zone, can be Basic or Advanced"),
        Param("dns1", required=True, description="the first DNS for the Zone"),
        Param("internaldns1", required=True, description="the first internal DNS for the Zone"),
        *(param for param in _SETTABLE if param.name not in ("dns1", "internaldns1")),
        Param("description", description="the description of the Zone"),
        Param("securitygroupenabled", ParamType.BOOLEAN, description="true if network is security group enabled"),
        Param("isedge", ParamType.BOOLEAN, description="true if the zone is an edge zone"),
    ],
    description="Creates a Zone.",
    response=ZONE,
)
def create_zone(call: Call) -> ObjectResponse:
    zone = zones.create_zone(call.session, _spec(call))
    audit(call, "ZONE.CREATE", f"Created zone {zone.name}", resource_type="Zone", resource_uuid=zone.uuid)
    return ObjectResponse("zone", zone_view(zone, full=True))


@api_command(
    "listZones",
    params=[
        Param("id", ParamType.UUID, description="the ID of the zone"),
        Param("ids", ParamType.LIST, item_type=ParamType.UUID, description="the IDs of the zones"),
        Param("name", description="the name of the zone"),
        Param("available", ParamType.BOOLEAN, description="true if you want to retrieve all available Zones"),
        Param("networktype", description="the network type of the zone that the virtual machine belongs to"),
        Param("showcapacities", ParamType.BOOLEAN, description="flag to display the capacity of the zones"),
        Param("domainid", ParamType.UUID, description="the ID of the domain associated with the zone"),
    ],
    roles=ALL_ROLES,
    description="Lists zones",
    response=ZONE,
    is_list=True,
)
def list_zones(call: Call) -> ListResponse:
    admin = call.who.is_admin
    found, total = zones.list_zones(
        call.connection, page_of(call), uuid=call.get("id"), uuids=call.get("ids"), name=call.get("name"),
        network_type=call.get("networktype"), enabled_only=not admin,
    )
    return listing("zone", found, total, lambda zone: zone_view(zone, full=admin))


@api_command(
    "updateZone",
    params=[
        Param("id", ParamType.UUID, required=True, description="the ID of the Zone"),
        Param("name", description="the name of the Zone"),
        *_SETTABLE,
        Param("description", description="the description of the Zone"),
    ],
    description="Updates a Zone.",
    response=ZONE,
)
def update_zone(call: Call) -> ObjectResponse:
    zone = zones.get_zone(call.session, call.get("id"), parameter="id")
    zones.update_zone(call.session, zone, _spec(call))
    audit(call, "ZONE.EDIT", f"Updated zone {zone.name}", resource_type="Zone", resource_uuid=zone.uuid)
    return ObjectResponse("zone", zone_view(zone, full=True))


@api_command(
    "deleteZone",
    params=[Param("id", ParamType.UUID, required=True, description="the ID of the Zone")],
    description="Deletes a Zone.",
    response=SUCCESS,
)
def delete_zone(call: Call) -> SuccessResponse:
    zone = zones.get_zone(call.session, call.get("id"), parameter="id")
    zones.delete_zone(call.session, zone)
    audit(call, "ZONE.DELETE", f"Deleted zone {zone.name}", resource_type="Zone", resource_uuid=zone.uuid)
    return SuccessResponse()
