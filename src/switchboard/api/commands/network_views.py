"""What clients ask of the network services a virtual router would provide: public IP addresses, port and
IP forwarding, firewall and load-balancing rules, security groups, affinity groups, VPCs and routers.

Switchboard's guest networks have no virtual router (the extension connects instances to a VLAN or bridge):
no public address is ever acquired, no rule or router exists, no zone has security groups, VPCs are not
offered and the planner knows no affinity groups. These lists answer that truth — always empty, as
CloudStack answers for such a cloud — after checking what they are asked about (an unknown zone, network,
instance or account is refused as CloudStack refuses it). The commands that would create such things are
not offered (432).

Their shapes declare the main fields of CloudStack's objects, as `listApis` documents them, though no
response of theirs ever carries one (`ALWAYS_EMPTY`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from switchboard.api.call import Call
from switchboard.api.owners import OWNER_PARAMS, list_owner
from switchboard.api.params import Param, ParamType
from switchboard.api.registry import api_command
from switchboard.api.responses import ListResponse
from switchboard.api.shapes import Field, Shape, T
from switchboard.compute.instance_rows import get_instance
from switchboard.infra import networks, zones
from switchboard.roles import ALL_ROLES, RoleType

_ID = Param("id", ParamType.UUID, description="the ID of the object")
_ZONE = Param("zoneid", ParamType.UUID, description="the ID of the availability zone")
_NETWORK = Param("networkid", ParamType.UUID, description="list by network ID")
_VM = Param("virtualmachineid", ParamType.UUID, description="list by virtual machine ID")
_VPC = Param("vpcid", ParamType.UUID, description="list by VPC ID")
_IP = Param("ipaddressid", ParamType.UUID, description="the ID of IP address")
_RECURSIVE = Param("isrecursive", ParamType.BOOLEAN, description="list resources in the domain's subdomains too")
_ADMINS = frozenset({RoleType.ADMIN, RoleType.DOMAIN_ADMIN, RoleType.RESOURCE_ADMIN})
_TAGS = Param("tags", ParamType.MAP, description="List resources by tags (key/value pairs)")


def _shape(name: str, fields: str) -> Shape:
    """A shape of string fields ("id name ...") described as CloudStack's response classes do."""
    return Shape(name, [Field(field, T.STRING, f"the {field} of the {name}") for field in fields.split()])


_OWNER = "account domainid domain"
SHAPES = {
    "publicipaddress": _shape("publicipaddress", f"id ipaddress allocated zoneid zonename issourcenat {_OWNER} "
                              "isstaticnat associatednetworkid associatednetworkname virtualmachineid "
                              "virtualmachinename state"),
    "portforwardingrule": _shape("portforwardingrule", "id privateport privateendport protocol publicport "
                                 "publicendport virtualmachineid virtualmachinename ipaddressid ipaddress state "
                                 "cidrlist networkid"),
    "ipforwardingrule": _shape("ipforwardingrule", "id protocol virtualmachineid virtualmachinename ipaddressid "
                               "ipaddress startport endport state"),
    "firewallrule": _shape("firewallrule", "id protocol startport endport ipaddressid networkid ipaddress state "
                           "cidrlist"),
    "loadbalancerrule": _shape("loadbalancerrule", "id name publicipid publicip publicport privateport algorithm "
                               f"networkid state zoneid {_OWNER}"),
    "securitygroup": _shape("securitygroup", f"id name description {_OWNER}"),
    "affinitygroup": _shape("affinitygroup", f"id name description type {_OWNER}"),
    "affinityGroupType": _shape("affinityGroupType", "type"),
    "vpc": _shape("vpc", f"id name displaytext state zoneid zonename cidr vpcofferingid {_OWNER}"),
    "vpcoffering": _shape("vpcoffering", "id name displaytext state isdefault"),
    "router": _shape("router", "id name zoneid zonename state publicip guestipaddress linklocalip hostid hostname "
                     "role templateid"),
}
# The objects these lists would show: none ever exists in this cloud.
ALWAYS_EMPTY = tuple(SHAPES.values())


def _checked(call: Call) -> None:
    """Refuse what CloudStack refuses: unknown objects named by the request, owners the caller may not see."""
    session = call.session
    if call.get("zoneid"):
        zones.get_zone(session, call.get("zoneid"))
    if call.get("networkid"):
        networks.check_access(session, call.who, networks.get_network(session, call.get("networkid")))
    if call.get("associatednetworkid"):
        networks.check_access(session, call.who,
                              networks.get_network(session, call.get("associatednetworkid"),
                                                   parameter="associatednetworkid"))
    if call.get("virtualmachineid"):
        get_instance(session, call.get("virtualmachineid"), parameter="virtualmachineid")
    list_owner(call)


def _empty_list(name: str, object_name: str, description: str, params: list[Param]) -> Callable[[Call], ListResponse]:
    # Routers are system VMs: CloudStack shows them to administrators only.
    roles = _ADMINS if name == "listRouters" else ALL_ROLES

    @api_command(name, params=[*params, *OWNER_PARAMS, _RECURSIVE], roles=roles, description=description,
                 response=SHAPES[object_name], is_list=True)
    def handler(call: Call) -> ListResponse:
        _checked(call)
        return ListResponse(object_name, [])

    return handler


_VIEWS: list[tuple[str, str, str, list[Any]]] = [
    ("listPublicIpAddresses", "publicipaddress", "Lists all public IP addresses (none: no network has a virtual "
     "router to acquire one)", [_ID, _ZONE, Param("associatednetworkid", ParamType.UUID, description="lists all "
     "public IP addresses associated to the network specified"), Param("ipaddress", description="lists the "
     "specified IP address"), Param("allocatedonly", ParamType.BOOLEAN, description="limits search results to "
     "allocated public IP addresses"), Param("isstaticnat", ParamType.BOOLEAN, description="list only static nat "
     "ip addresses"), Param("issourcenat", ParamType.BOOLEAN, description="list only source NAT IP addresses"),
     Param("forvirtualnetwork", ParamType.BOOLEAN, description="the virtual network for the IP address"), _VPC,
     _TAGS]),
    ("listPortForwardingRules", "portforwardingrule", "Lists all port forwarding rules for an IP address (none)",
     [_ID, _IP, _NETWORK, _TAGS]),
    ("listIpForwardingRules", "ipforwardingrule", "List the IP forwarding rules (none)", [_ID, _IP, _VM]),
    ("listFirewallRules", "firewallrule", "Lists all firewall rules for an IP address (none)",
     [_ID, _IP, _NETWORK, _TAGS]),
    ("listEgressFirewallRules", "firewallrule", "Lists all egress firewall rules for network ID (none)",
     [_ID, _NETWORK, _TAGS]),
    ("listLoadBalancerRules", "loadbalancerrule", "Lists load balancer rules (none)",
     [_ID, Param("name", description="the name of the load balancer rule"), Param("publicipid", ParamType.UUID,
     description="the public IP address ID of the load balancer rule"), _VM, _ZONE, _NETWORK, _TAGS]),
    ("listSecurityGroups", "securitygroup", "Lists security groups (none: no zone has security groups)",
     [_ID, Param("securitygroupname", description="lists security groups by name"), _VM, _TAGS]),
    ("listAffinityGroups", "affinitygroup", "Lists affinity groups (none: the planner knows no affinity groups)",
     [_ID, Param("name", description="lists affinity groups by name"), Param("type", description="lists affinity "
     "groups by type"), _VM]),
    ("listAffinityGroupTypes", "affinityGroupType", "Lists affinity group types available (none)", []),
    ("listVPCs", "vpc", "Lists VPCs (none: VPCs are not offered)", [_ID, _ZONE, Param("name", description="list by "
     "name of the VPC"), Param("state", description="list VPCs by state"), _TAGS]),
    ("listVPCOfferings", "vpcoffering", "Lists VPC offerings (none)", [_ID, _ZONE, Param("name", description="list "
     "VPC offerings by name")]),
    ("listRouters", "router", "List routers (none: guest networks have no virtual router)",
     [_ID, _ZONE, _NETWORK, _VPC, Param("name", description="the name of the router"), Param("state",
     description="the state of the router"), Param("hostid", ParamType.UUID, description="the host ID of the "
     "router"), Param("podid", ParamType.UUID, description="the Pod ID of the router")]),
]

for _name, _object_name, _description, _params in _VIEWS:
    _empty_list(_name, _object_name, _description, _params)
