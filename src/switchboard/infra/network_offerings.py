"""Creating, changing and deleting network offerings: the guest offerings this cloud can serve (L2 and
Isolated; there is no VPC), with CloudStack's checks and texts. A new offering is Disabled unless it is
created enabled, as CloudStack creates them; networks can be created only from Enabled offerings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from switchboard.db.base import utcnow
from switchboard.db.models.infrastructure import AllocationState, Network, NetworkOffering
from switchboard.errors import Conflict, InvalidParameter
from switchboard.infra.common import one_of, require_name

__all__ = ["SERVICES", "NetworkOfferingSpec", "create_network_offering", "delete_network_offering",
           "required_offering", "update_network_offering"]

# CloudStack's Network.Service names an offering may list (Gateway is implied, never listed).
SERVICES = ("Vpn", "Dhcp", "Dns", "Firewall", "Lb", "UserData", "SourceNat", "StaticNat", "PortForwarding",
            "SecurityGroup", "NetworkACL", "Connectivity")
_GUEST_TYPES = ("L2", "Isolated")
REQUIRED = "Required"  # the availability of the one offering a deploy without networks makes a network from
_AVAILABILITY = (REQUIRED, "Optional")


@dataclass(frozen=True, kw_only=True)
class NetworkOfferingSpec:
    name: str
    display_text: str | None = None
    guest_type: str = "Isolated"
    traffic_type: str = "Guest"
    services: Sequence[str] = ()
    specify_vlan: bool = False
    specify_ip_ranges: bool = False
    conserve_mode: bool = True
    is_persistent: bool = False
    availability: str = "Optional"
    network_rate: int | None = None
    for_vpc: bool = False
    enabled: bool = False


def _services(names: Sequence[str], guest_type: str) -> list[str]:
    found = []
    for name in names:
        service = next((s for s in SERVICES if s.lower() == name.strip().lower()), None)
        if service is None:
            raise InvalidParameter(f"Invalid service {name}", parameter="supportedservices")
        if service == "SecurityGroup":
            raise InvalidParameter("SecurityGroup service is supported only for Shared networks",
                                   parameter="supportedservices")
        if service == "NetworkACL":
            raise InvalidParameter("NetworkACL service is supported only for VPC networks, which are not offered",
                                   parameter="supportedservices")
        if service not in found:
            found.append(service)
    if guest_type == "L2" and found:
        raise InvalidParameter("An L2 network offering has no services", parameter="supportedservices")
    return found


def create_network_offering(session: Session, spec: NetworkOfferingSpec) -> NetworkOffering:
    name = require_name(spec.name)
    if spec.traffic_type.lower() != "guest":
        raise InvalidParameter("Only traffic type Guest is supported in the current release", parameter="traffictype")
    guest_type = next((t for t in (*_GUEST_TYPES, "Shared") if t.lower() == spec.guest_type.lower()), None)
    if guest_type is None:
        raise InvalidParameter("Invalid \"type\" parameter is given; can have Shared and Isolated values",
                               parameter="guestiptype")
    if guest_type not in _GUEST_TYPES:
        raise InvalidParameter("Switchboard creates L2 and Isolated network offerings only (Shared networks use "
                               "DefaultSharedNetworkOffering)", parameter="guestiptype")
    if spec.for_vpc:
        raise InvalidParameter("VPCs are not offered: a network offering cannot be for VPC", parameter="forvpc")
    availability = one_of(spec.availability, _AVAILABILITY, parameter="availability")
    services = _services(spec.services, guest_type)
    _check_availability(session, availability, guest_type, services, offering_id=None)
    if session.scalar(select(NetworkOffering.id).where(NetworkOffering.name == name)) is not None:
        raise InvalidParameter(f"Network offering with name {name} already exists", parameter="name")
    offering = NetworkOffering(
        name=name, display_text=spec.display_text or name, guest_type=guest_type, traffic_type="Guest",
        specify_vlan=spec.specify_vlan, specify_ip_ranges=spec.specify_ip_ranges, conserve_mode=spec.conserve_mode,
        is_persistent=spec.is_persistent, availability=availability,
        network_rate=max(spec.network_rate, 0) if spec.network_rate is not None else None,
        services=",".join(services), for_vpc=False,
        state=AllocationState.ENABLED.value if spec.enabled else AllocationState.DISABLED.value,
    )
    session.add(offering)
    session.flush()
    return offering


def _check_availability(session: Session, availability: str, guest_type: str, services: Sequence[str],
                        *, offering_id: int | None) -> None:
    """CloudStack's rule: only an Isolated offering with SourceNat may be Required, and only one at a time."""
    if availability != REQUIRED:
        return
    if guest_type != "Isolated" or "SourceNat" not in services:
        raise InvalidParameter("Availability can be Required only for networkOfferings of type Isolated and with "
                               "SourceNat enabled", parameter="availability")
    other = required_offering(session)
    if other is not None and other.id != offering_id:
        raise InvalidParameter(f"System already has network offering id={other.uuid} with availability Required",
                               parameter="availability")


def required_offering(session: Session) -> NetworkOffering | None:
    """The live offering whose availability is Required (there is one at most): a deploy without networks
    makes the owner's default network from it."""
    return session.scalars(select(NetworkOffering).where(NetworkOffering.availability == REQUIRED,
                                                         NetworkOffering.removed.is_(None))).first()


def update_network_offering(session: Session, offering: NetworkOffering, *, name: str | None = None,
                            display_text: str | None = None, availability: str | None = None,
                            state: str | None = None) -> NetworkOffering:
    if name is not None and name.strip() != offering.name:
        name = require_name(name)
        if session.scalar(select(NetworkOffering.id).where(NetworkOffering.name == name)) is not None:
            raise InvalidParameter(f"Network offering with name {name} already exists", parameter="name")
        offering.name = name
    if display_text is not None:
        offering.display_text = display_text
    if availability is not None:
        availability = one_of(availability, _AVAILABILITY, parameter="availability")
        _check_availability(session, availability, offering.guest_type, offering.services.split(","),
                            offering_id=offering.id)
        offering.availability = availability
    if state is not None:
        offering.state = one_of(state, (AllocationState.ENABLED.value, AllocationState.DISABLED.value),
                                parameter="state")
    session.flush()
    return offering


def delete_network_offering(session: Session, offering: NetworkOffering) -> None:
    """Soft-delete; refused for default offerings and for offerings live networks use (CloudStack's texts)."""
    if offering.is_default:
        raise InvalidParameter("Default network offering can't be deleted", parameter="id", uuids=[offering.uuid])
    in_use = session.scalar(select(func.count()).select_from(Network)
                            .where(Network.network_offering_id == offering.id, Network.removed.is_(None)))
    if in_use:
        raise Conflict(f"Can't delete network offering {offering.name} as its used by {in_use} networks. To make the "
                       "network offering unavailable, disable it", uuids=[offering.uuid])
    offering.removed = utcnow()
    offering.state = AllocationState.DISABLED.value
    session.flush()
