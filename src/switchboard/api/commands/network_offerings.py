"""Network offering commands: createNetworkOffering, updateNetworkOffering, deleteNetworkOffering (admins),
for the guest offerings this cloud can serve (L2 and Isolated). listNetworkOfferings is in `offerings`."""

from __future__ import annotations

from switchboard.api.audit import audit
from switchboard.api.call import Call
from switchboard.api.commands.offerings import NETWORK_OFFERING, network_offering_view
from switchboard.api.params import MapValue, Param, ParamType
from switchboard.api.registry import api_command
from switchboard.api.responses import ObjectResponse, SuccessResponse
from switchboard.api.shapes import SUCCESS
from switchboard.infra import network_offerings, offerings

_OFFERING = "NetworkOffering"


@api_command(
    "createNetworkOffering",
    params=[
        Param("name", required=True, description="the name of the network offering"),
        Param("displaytext", description="the display text of the network offering, defaults to the value of "
              "'name'."),
        Param("traffictype", required=True, description="the traffic type for the network offering. Supported "
              "type in current release is GUEST only"),
        Param("guestiptype", required=True, description="guest type of the network offering: L2 or Isolated"),
        Param("supportedservices", ParamType.LIST, item_type=ParamType.STRING, description="services supported by "
              "the network offering"),
        Param("serviceproviderlist", ParamType.MAP, description="provider to service mapping. If not specified, the "
              "provider for the service will be mapped to the default provider on the physical network"),
        Param("servicecapabilitylist", ParamType.MAP, description="desired service capabilities as part of network "
              "offering"),
        Param("specifyvlan", ParamType.BOOLEAN, description="true if network offering supports vlans"),
        Param("specifyipranges", ParamType.BOOLEAN, description="true if network offering supports specifying ip "
              "ranges; defaulted to false if not specified"),
        Param("conservemode", ParamType.BOOLEAN, description="true if the network offering is IP conserve mode "
              "enabled"),
        Param("ispersistent", ParamType.BOOLEAN, description="true if network offering supports persistent "
              "networks; defaulted to false if not specified"),
        Param("availability", description="the availability of network offering. The default value is Optional. "
              "Another value is Required, which will make it as the default network offering for new networks"),
        Param("networkrate", ParamType.INTEGER, description="data transfer rate in megabits per second allowed"),
        Param("egressdefaultpolicy", ParamType.BOOLEAN, description="true if guest network default egress policy "
              "is allow; false if default egress policy is deny"),
        Param("forvpc", ParamType.BOOLEAN, description="true if network offering is meant to be used for VPC, false "
              "otherwise."),
        Param("enable", ParamType.BOOLEAN, description="set to true if the offering is to be enabled during "
              "creation. Default is false", since="4.16"),
        Param("tags", description="the tags for the network offering.", length=4096),
        Param("details", ParamType.MAP, description="Network offering details in key/value pairs"),
    ],
    description="Creates a network offering.",
    response=NETWORK_OFFERING,
    since="3.0.0",
)
def create_network_offering(call: Call) -> ObjectResponse:
    services = list(call.get("supportedservices") or [])
    providers = call.get("serviceproviderlist")
    if isinstance(providers, MapValue):  # serviceproviderlist[0].service=Dhcp&...provider=VirtualRouter
        services += [entry["service"] for entry in providers if entry.get("service") and entry["service"] not in
                     services]
    spec = network_offerings.NetworkOfferingSpec(
        name=call.get("name"), display_text=call.get("displaytext"), guest_type=call.get("guestiptype"),
        traffic_type=call.get("traffictype"), services=services, specify_vlan=bool(call.get("specifyvlan")),
        specify_ip_ranges=bool(call.get("specifyipranges")), conserve_mode=call.get("conservemode", True),
        is_persistent=bool(call.get("ispersistent")), availability=call.get("availability") or "Optional",
        network_rate=call.get("networkrate"), for_vpc=bool(call.get("forvpc")), enabled=bool(call.get("enable")),
    )
    offering = network_offerings.create_network_offering(call.session, spec)
    audit(call, "NETWORK.OFFERING.CREATE", f"Created network offering {offering.name}", resource_type=_OFFERING,
          resource_uuid=offering.uuid)
    return ObjectResponse("networkoffering", network_offering_view(offering))


@api_command(
    "updateNetworkOffering",
    params=[
        Param("id", ParamType.UUID, required=True, description="the id of the network offering"),
        Param("name", description="the name of the network offering"),
        Param("displaytext", description="the display text of the network offering"),
        Param("availability", description="the availability of network offering: Required or Optional"),
        Param("state", description="update state for the network offering: Enabled or Disabled"),
        Param("sortkey", ParamType.INTEGER, description="sort key of the network offering, integer"),
    ],
    description="Updates a network offering.",
    response=NETWORK_OFFERING,
)
def update_network_offering(call: Call) -> ObjectResponse:
    offering = offerings.get_network_offering(call.session, call.get("id"), parameter="id")
    network_offerings.update_network_offering(call.session, offering, name=call.get("name"),
                                              display_text=call.get("displaytext"),
                                              availability=call.get("availability"), state=call.get("state"))
    audit(call, "NETWORK.OFFERING.EDIT", f"Updated network offering {offering.name}", resource_type=_OFFERING,
          resource_uuid=offering.uuid)
    return ObjectResponse("networkoffering", network_offering_view(offering))


@api_command(
    "deleteNetworkOffering",
    params=[Param("id", ParamType.UUID, required=True, description="the ID of the network offering")],
    description="Deletes a network offering.",
    response=SUCCESS,
)
def delete_network_offering(call: Call) -> SuccessResponse:
    offering = offerings.get_network_offering(call.session, call.get("id"), parameter="id")
    network_offerings.delete_network_offering(call.session, offering)
    audit(call, "NETWORK.OFFERING.DELETE", f"Deleted network offering {offering.name}", resource_type=_OFFERING,
          resource_uuid=offering.uuid)
    return SuccessResponse()
