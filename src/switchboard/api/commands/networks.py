"""Network commands: createNetwork, listNetworks, deleteNetwork (async, as in CloudStack)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from switchboard.api.call import Call
from switchboard.api.commands.infra_common import audit, listing, owner_fields, page_of
from switchboard.api.params import Param, ParamType, format_date
from switchboard.api.registry import api_command
from switchboard.api.responses import AsyncJobRequest, ListResponse, ObjectResponse
from switchboard.db.models.infrastructure import Network
from switchboard.infra import networks, offerings, zones
from switchboard.infra.common import Page, require_name
from switchboard.infra.networks import NetworkRecord
from switchboard.infra.owners import resolve_owner
from switchboard.infra.settings import SETTINGS_SERVICE, InfraSettings
from switchboard.roles import ALL_ROLES

DELETE_NETWORK_JOB = "infra.deleteNetwork"
UPDATE_NETWORK_JOB = "infra.updateNetwork"


def network_view(record: NetworkRecord, *, full: bool) -> dict[str, Any]:
    """CloudStack's NetworkResponse; the VLAN and broadcast URI only in the admin's (full) view."""
    network, offering = record.network, record.offering
    services = [name for name in offering.services.split(",") if name]
    fields: dict[str, Any] = {
        "id": network.uuid,
        "name": network.name,
        "displaytext": network.display_text,
        "broadcastdomaintype": network.broadcast_domain_type,
        "traffictype": network.traffic_type,
        "type": network.guest_type,
        "gateway": network.gateway,
        "netmask": network.netmask,
        "cidr": network.cidr,
        "zoneid": record.zone.uuid,
        "zonename": record.zone.name,
        "networkofferingid": offering.uuid,
        "networkofferingname": offering.name,
        "networkofferingdisplaytext": offering.display_text,
        "networkofferingconservemode": offering.conserve_mode,
        "networkofferingavailability": offering.availability,
        "issystem": False,
        "state": network.state,
        "dns1": network.dns1,
        "dns2": network.dns2,
        "networkdomain": network.network_domain,
        "acltype": network.acl_type,
        "restartrequired": False,
        "specifyipranges": offering.specify_ip_ranges,
        "canusefordeploy": True,
        "ispersistent": offering.is_persistent,
        "displaynetwork": network.display,
        "isdefault": False,
        "redundantrouter": False,
        "publicmtu": network.mtu,
        "privatemtu": network.mtu,
        "networkrate": network.network_rate,
        "created": format_date(network.created),
        "service": [{"name": name} for name in services],
        "tags": [],
        "hasannotations": False,
        **owner_fields(record.account, record.domain),
    }
    if full:
        fields["vlan"] = str(network.vlan) if network.vlan is not None else networks.UNTAGGED
        fields["broadcasturi"] = networks.broadcast_uri(network.vlan)
    return {key: value for key, value in fields.items() if value is not None}


@api_command(
    "createNetwork",
    params=[
        Param("name", required=True, description="the name of the network"),
        Param("displaytext", description="the display text of the network", length=4096),
        Param("networkofferingid", ParamType.UUID, required=True, description="the network offering ID"),
        Param("zoneid", ParamType.UUID, required=True, description="the zone ID for the network"),
        Param("vlan", description="the ID or VID of the network (admins only)"),
        Param("gateway", description="the gateway of the network"),
        Param("netmask", description="the netmask of the network"),
        Param("startip", description="the beginning IP address in the network IP range"),
        Param("endip", description="the ending IP address in the network IP range"),
        Param("networkdomain", description="network domain"),
        Param("account", description="account that will own the network (with domainid; default: the caller's)"),
        Param("domainid", ParamType.UUID, description="domain ID of the account owning a network"),
    ],
    roles=ALL_ROLES,
    description="Creates a network",
    response_object="network",
)
def create_network(call: Call) -> ObjectResponse:
    zone = zones.get_zone(call.session, call.get("zoneid"))
    offering = offerings.get_network_offering(call.session, call.get("networkofferingid"))
    spec = networks.NetworkSpec(
        name=call.get("name"), display_text=call.get("displaytext"), vlan=call.get("vlan"),
        gateway=call.get("gateway"), netmask=call.get("netmask"), start_ip=call.get("startip"),
        end_ip=call.get("endip"), network_domain=call.get("networkdomain"),
    )
    owner = resolve_owner(call.session, call.who, account=call.get("account"), domain_uuid=call.get("domainid"))
    settings = call.services.registry.get(SETTINGS_SERVICE)
    dynamic_vlans = settings.dynamic_vlans if isinstance(settings, InfraSettings) else networks.DYNAMIC_VLANS
    network = networks.create_network(call.session, call.who, zone, offering, spec, owner=owner,
                                      dynamic_vlans=dynamic_vlans)
    audit(call, "NETWORK.CREATE", f"Created network {network.name}", resource_type="Network",
          resource_uuid=network.uuid)
    found, _total = networks.list_networks(call.session, call.who, Page(), list_all=True, uuid=network.uuid)
    return ObjectResponse("network", network_view(found[0], full=call.who.is_admin))


@api_command(
    "listNetworks",
    params=[
        Param("id", ParamType.UUID, description="list networks by ID"),
        Param("ids", ParamType.LIST, item_type=ParamType.UUID, description="the IDs of the networks"),
        Param("zoneid", ParamType.UUID, description="the zone ID of the network"),
        Param("type", description="the type of the network. Supported values are: isolated, l2, shared"),
        Param("traffictype", description="type of the traffic"),
        Param("networkofferingid", ParamType.UUID, description="list networks by network offering ID"),
        Param("vlan", description="list networks by VLAN (admins only)"),
        Param("isrecursive", ParamType.BOOLEAN, description="defaults to false, but if true, lists all "
              "resources from the parent specified by the domainId till leaves"),
        Param("account", description="list resources by account (ignored)"),
        Param("domainid", ParamType.UUID, description="list only resources belonging to the domain specified"),
        Param("canusefordeploy", ParamType.BOOLEAN, description="list networks available for VM deployment"),
        Param("issystem", ParamType.BOOLEAN, description="true if network is system, false otherwise"),
    ],
    roles=ALL_ROLES,
    description="Lists all available networks.",
    response_object="network",
    is_list=True,
)
def list_networks(call: Call) -> ListResponse:
    if call.get("issystem"):
        return ListResponse("network", [])
    guest_type = call.get("type")
    if guest_type is not None:
        guest_type = {"l2": "L2", "isolated": "Isolated", "shared": "Shared"}.get(guest_type.lower(), guest_type)
    admin = call.who.is_admin
    found, total = networks.list_networks(
        call.session, call.who, page_of(call), list_all=bool(call.get("listall")), uuid=call.get("id"),
        ids=call.get("ids"),
        zone_id=zones.get_zone(call.session, call.get("zoneid")).id if call.get("zoneid") else None,
        guest_type=guest_type, traffic_type=call.get("traffictype"),
        offering_id=offerings.get_network_offering(call.session, call.get("networkofferingid")).id
        if call.get("networkofferingid") else None,
        vlan=networks.parse_vlan(call.get("vlan")) if admin and call.get("vlan") else None,
    )
    return listing("network", found, total, lambda record: network_view(record, full=admin))


@api_command(
    "deleteNetwork",
    params=[
        Param("id", ParamType.UUID, required=True, description="the ID of the network"),
        Param("forced", ParamType.BOOLEAN, description="Force delete a network (ignored)"),
    ],
    roles=ALL_ROLES,
    description="Deletes a network",
    is_async=True,
)
def delete_network(call: Call) -> AsyncJobRequest:
    network = networks.get_network(call.session, call.get("id"), parameter="id")
    networks.check_owner(call.session, call.who, network)
    return AsyncJobRequest(handler=DELETE_NETWORK_JOB, args={"id": network.uuid}, instance_type="Network",
                           instance_id=network.uuid)


@api_command(
    "updateNetwork",
    params=[
        Param("id", ParamType.UUID, required=True, description="the ID of the network"),
        Param("name", description="the new name for the network"),
        Param("displaytext", description="the new display text for the network", length=4096),
        Param("networkdomain", description="network domain"),
        Param("displaynetwork", ParamType.BOOLEAN, description="an optional field, whether to the display the "
              "network to the end user or not"),
    ],
    roles=ALL_ROLES,
    description="Updates a network",
    response_object="network",
    is_async=True,
)
def update_network(call: Call) -> AsyncJobRequest:
    network = networks.get_network(call.session, call.get("id"), parameter="id")
    networks.check_owner(call.session, call.who, network)
    changes = {key: call.get(key) for key in ("name", "displaytext", "networkdomain", "displaynetwork")
               if call.get(key) is not None}
    if "name" in changes:
        require_name(changes["name"])  # fail now rather than in the job
    return AsyncJobRequest(handler=UPDATE_NETWORK_JOB, args={"id": network.uuid, **changes},
                           instance_type="Network", instance_id=network.uuid)


def network_response(session: Session, network: Network, *, full: bool) -> dict[str, Any]:
    """One network's response fields, for job results (which have no Call)."""
    return network_view(networks.network_record(session, network), full=full)
