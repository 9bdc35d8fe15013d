"""Network commands: createNetwork, listNetworks, deleteNetwork (async, as in CloudStack)."""

from __future__ import annotations

from switchboard.api.audit import audit
from switchboard.api.call import Call
from switchboard.api.commands.tags import TAGS_PARAM, tag_filter, tag_views
from switchboard.api.owners import owner_of_call
from switchboard.api.paging import listing, page_of
from switchboard.api.params import Param, ParamType
from switchboard.api.registry import api_command
from switchboard.api.responses import AsyncJobRequest, ListResponse, ObjectResponse
from switchboard.api.shapes import SUCCESS
from switchboard.api.views.networks import NETWORK, network_view
from switchboard.db.models.infrastructure import Network
from switchboard.infra import networks, offerings, zones
from switchboard.infra.common import Page, require_name
from switchboard.infra.jobs import DELETE_NETWORK_JOB, UPDATE_NETWORK_JOB
from switchboard.roles import ALL_ROLES


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
        Param("projectid", ParamType.UUID, description="an optional project for the network"),
    ],
    roles=ALL_ROLES,
    description="Creates a network",
    response=NETWORK,
)
def create_network(call: Call) -> ObjectResponse:
    zone = zones.get_zone(call.session, call.get("zoneid"))
    offering = offerings.get_network_offering(call.session, call.get("networkofferingid"))
    spec = networks.NetworkSpec(
        name=call.get("name"), display_text=call.get("displaytext"), vlan=call.get("vlan"),
        gateway=call.get("gateway"), netmask=call.get("netmask"), start_ip=call.get("startip"),
        end_ip=call.get("endip"), network_domain=call.get("networkdomain"),
    )
    owner = owner_of_call(call)
    dynamic_vlans = call.services.guest_vlans
    network = networks.create_network(call.session, call.who, zone, offering, spec, owner=owner,
                                      dynamic_vlans=dynamic_vlans)
    audit(call, "NETWORK.CREATE", f"Created network {network.name}", resource_type="Network",
          resource_uuid=network.uuid)
    found, _total = networks.list_networks(call.session, call.who, Page(), list_all=True, uuid=network.uuid,
                                           account_id=owner.account_id)
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
        Param("projectid", ParamType.UUID, description="list objects by project"),
        Param("canusefordeploy", ParamType.BOOLEAN, description="list networks available for VM deployment"),
        Param("issystem", ParamType.BOOLEAN, description="true if network is system, false otherwise"),
        TAGS_PARAM,
    ],
    roles=ALL_ROLES,
    description="Lists all available networks.",
    response=NETWORK,
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
        tagged=tag_filter(call, "Network", Network.id),
        account_id=owner_of_call(call).account_id if call.get("projectid") else None,
    )
    tagged = tag_views(call, "Network", [record.network.id for record in found])
    return listing("network", found, total,
                   lambda record: {**network_view(record, full=admin), "tags": tagged.get(record.network.id, [])})


@api_command(
    "deleteNetwork",
    params=[
        Param("id", ParamType.UUID, required=True, description="the ID of the network"),
        Param("forced", ParamType.BOOLEAN, description="Force delete a network (ignored)"),
    ],
    roles=ALL_ROLES,
    description="Deletes a network",
    response=SUCCESS,
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
    response=NETWORK,
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


