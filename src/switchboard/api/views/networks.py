"""CloudStack's NetworkResponse: a network as the network commands and their jobs show it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from switchboard.api.params import format_date
from switchboard.api.shapes import Field, Shape, T
from switchboard.api.views.fields import HAS_ANNOTATIONS_FIELD, OWNER_FIELDS, TAGS_FIELD, owner_fields
from switchboard.db.models.infrastructure import Network
from switchboard.infra import networks
from switchboard.infra.networks import NetworkRecord

_SERVICE = Shape("service", [Field("name", T.STRING, "the service name")])
NETWORK = Shape("network", [
    Field("id", T.STRING, "the id of the network"),
    Field("name", T.STRING, "the name of the network"),
    Field("displaytext", T.STRING, "the displaytext of the network"),
    Field("broadcastdomaintype", T.STRING, "Broadcast domain type of the network"),
    Field("traffictype", T.STRING, "the traffic type of the network"),
    Field("type", T.STRING, "the type of the network"),
    Field("gateway", T.STRING, "the network's gateway"),
    Field("netmask", T.STRING, "the network's netmask"),
    Field("cidr", T.STRING, "Cloudstack managed address space, all CloudStack managed VMs get IP address from "
          "CIDR"),
    Field("zoneid", T.STRING, "zone id of the network"),
    Field("zonename", T.STRING, "the name of the zone the network belongs to"),
    Field("networkofferingid", T.STRING, "network offering id the network is created from"),
    Field("networkofferingname", T.STRING, "name of the network offering the network is created from"),
    Field("networkofferingdisplaytext", T.STRING, "display text of the network offering the network is created "
          "from"),
    Field("networkofferingconservemode", T.BOOLEAN, "true if network offering is ip conserve mode enabled"),
    Field("networkofferingavailability", T.STRING, "availability of the network offering the network is created "
          "from"),
    Field("issystem", T.BOOLEAN, "true if network is system, false otherwise"),
    Field("state", T.STRING, "state of the network"),
    Field("dns1", T.STRING, "the first IPv4 DNS for the network"),
    Field("dns2", T.STRING, "the second IPv4 DNS for the network"),
    Field("networkdomain", T.STRING, "the network domain"),
    Field("acltype", T.STRING, "acl type - access type to the network"),
    Field("restartrequired", T.BOOLEAN, "true network requires restart"),
    Field("specifyipranges", T.BOOLEAN, "true if network supports specifying ip ranges, false otherwise"),
    Field("canusefordeploy", T.BOOLEAN, "list networks available for vm deployment"),
    Field("ispersistent", T.BOOLEAN, "list networks that are persistent"),
    Field("displaynetwork", T.BOOLEAN, "an optional field, whether to the display the network to the end user or "
          "not."),
    Field("isdefault", T.BOOLEAN, "true if network is default, false otherwise"),
    Field("redundantrouter", T.BOOLEAN, "If the network has redundant routers enabled"),
    Field("publicmtu", T.INTEGER, "MTU configured on the network VR's public facing interfaces"),
    Field("privatemtu", T.INTEGER, "MTU configured on the network VR's private interfaces"),
    Field("networkrate", T.INTEGER, "data transfer rate in megabits per second allowed"),
    Field("created", T.DATE, "the date this network was created"),
    Field("service", T.LIST, "the list of services", shape=_SERVICE),
    TAGS_FIELD,
    HAS_ANNOTATIONS_FIELD,
    *OWNER_FIELDS,
    Field("vlan", T.STRING, "The vlan of the network. This parameter is visible to ROOT admins only"),
    Field("broadcasturi", T.STRING, "broadcast uri of the network. This parameter is visible to ROOT admins only"),
])


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


def network_response(session: Session, network: Network, *, full: bool) -> dict[str, Any]:
    """One network's response fields, for job results (which have no Call)."""
    return network_view(networks.network_record(session, network), full=full)
