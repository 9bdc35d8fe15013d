"""NIC allocation for instances: a unique locally administered MAC, an IPv4 address from the network's
range (Isolated and Shared networks), and the VLAN URIs the payload's NIC object carries.

Allocation inserts under a savepoint and retries on a unique-constraint clash, so concurrent deploys
(several servers on PostgreSQL) never share a MAC or an IP.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Connection, bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from switchboard.db.models.infrastructure import Network, NetworkState, Nic
from switchboard.errors import Conflict, InsufficientCapacity, InvalidParameter, NotFound, OperationFailed
from switchboard.infra import validate
from switchboard.infra.common import savepoint
from switchboard.infra.networks import broadcast_uri

__all__ = [
    "NicView",
    "allocate_nic",
    "attach_to_instance",
    "get_nic",
    "nic_views",
    "normalise_mac",
    "random_mac",
    "release_instance_nics",
    "release_nic",
    "update_addresses",
    "view_of",
]

_ATTEMPTS = 20
_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


@dataclass(frozen=True, kw_only=True)
class NicView:
    """Everything the payload builder needs for one NIC (CloudStack's NicTO), in domain names."""

    id: int
    uuid: str  # the NIC's uuid (`nicUuid` on the wire)
    instance_id: int | None
    device_id: int
    is_default: bool
    mac: str
    ip: str | None
    netmask: str | None
    gateway: str | None
    ip6_address: str | None
    dns1: str | None
    dns2: str | None
    network_id: int
    network_uuid: str  # `uuid` on the wire
    network_name: str
    guest_type: str
    traffic_type: str
    broadcast_type: str
    broadcast_uri: str
    isolation_uri: str
    vlan: int | None
    mtu: int
    network_rate_mbps: int
    segment_name: str  # CloudStack's networkSegmentName, D<domain>-A<account>-Z<zone>-S<network>


def random_mac() -> str:
    """A random unicast, locally administered MAC with CloudStack's `02:` first octet."""
    return "02:" + ":".join(f"{byte:02x}" for byte in secrets.token_bytes(5))


# Built once: every deploy scans its networks' used addresses.
_USED_IPS = select(Nic.ip4_address).where(Nic.network_id == bindparam("network_id"), Nic.ip4_address.is_not(None))


class NicNetwork(Protocol):
    """What allocating a NIC reads of its network (a Network, or a networks.NetworkRef)."""

    @property
    def id(self) -> int: ...

    @property
    def uuid(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def state(self) -> str: ...

    @property
    def vlan(self) -> int | None: ...

    @property
    def gateway(self) -> str | None: ...

    @property
    def start_ip(self) -> str | None: ...

    @property
    def end_ip(self) -> str | None: ...


def _free_ip(session: Session, network: NicNetwork) -> str | None:
    if not (network.start_ip and network.end_ip):
        return None
    # As integers: building an address object per candidate cost more than the query on a busy network.
    used = {int(ipaddress.IPv4Address(ip))
            for ip in session.connection().execute(_USED_IPS, {"network_id": network.id}).scalars()}
    with contextlib.suppress(ValueError):  # a gateway that is no IPv4 address is never a candidate anyway
        used.add(int(ipaddress.IPv4Address(network.gateway or "")))
    start, end = int(ipaddress.IPv4Address(network.start_ip)), int(ipaddress.IPv4Address(network.end_ip))
    for number in range(start, end + 1):
        if number not in used:
            return str(ipaddress.IPv4Address(number))
    raise InsufficientCapacity(f"Insufficient address capacity: no free IP address left in network "
                               f"{network.name}", uuids=[network.uuid])


def _check_requested_ip(network: NicNetwork, ip: str) -> str:
    address = validate.ipv4(ip, parameter="ipaddress") or ""
    if not (network.start_ip and network.end_ip):
        raise InvalidParameter(f"Network {network.name} has no IP range to take {address} from",
                               parameter="ipaddress")
    low, high = ipaddress.IPv4Address(network.start_ip), ipaddress.IPv4Address(network.end_ip)
    if not low <= ipaddress.IPv4Address(address) <= high or address == network.gateway:
        raise InvalidParameter(f"IP address {address} is outside the range of network {network.name}",
                               parameter="ipaddress")
    return address


def allocate_nic(
    session: Session,
    network: NicNetwork,
    *,
    instance_id: int | None,
    device_id: int,
    is_default: bool,
    ip: str | None = None,
    mac: str | None = None,
) -> Nic:
    """Give an instance a NIC on `network`. A requested `ip`/`mac` must be free (Conflict otherwise);
    without them the lowest free IP of the range and a random MAC are taken."""
    requested_ip = _check_requested_ip(network, ip) if ip else None
    requested_mac = normalise_mac(mac) if mac else None
    uri = broadcast_uri(network.vlan)
    for _attempt in range(_ATTEMPTS):
        nic = Nic(
            instance_id=instance_id, network_id=network.id, device_id=device_id, is_default=is_default,
            mac_address=requested_mac or random_mac(), ip4_address=requested_ip or _free_ip(session, network),
            broadcast_uri=uri, isolation_uri=uri, mode="Dhcp", state="Reserved",
        )
        try:
            with savepoint(session):
                session.add(nic)
                session.flush()
        except IntegrityError:
            if requested_ip or requested_mac:
                raise Conflict(f"The requested address is already in use in network {network.name}") from None
            continue  # another allocation took the IP or the MAC meanwhile: pick again
        if network.state == NetworkState.ALLOCATED.value:
            # An ORM-enabled UPDATE: a Network of this row in the session sees the new state too.
            session.execute(update(Network).where(Network.id == network.id,
                                                  Network.state == NetworkState.ALLOCATED.value)
                            .values(state=NetworkState.IMPLEMENTED.value))
        return nic
    raise OperationFailed(f"Unable to allocate a NIC on network {network.name}: too much contention")


def normalise_mac(mac: str) -> str:
    """Lower-case colon form; InvalidParameter for anything that is not a unicast MAC."""
    text = mac.strip().lower().replace("-", ":")
    if not _MAC.match(text) or int(text[:2], 16) & 1:
        raise InvalidParameter(f"Invalid MAC address {mac}", parameter="macaddress")
    return text


def get_nic(session: Session, uuid: str) -> Nic:
    nic = session.execute(select(Nic).where(Nic.uuid == uuid)).scalar_one_or_none()
    if nic is None:
        raise NotFound(f"Unable to find NIC by id {uuid}", uuids=[uuid])
    return nic


def update_addresses(
    session: Session, nic: Nic, *, mac: str | None = None, ip: str | None = None, ip6: str | None = None
) -> Nic:
    """Persist addresses an extension chose (prepare output): Conflict when another NIC has them."""
    try:
        with savepoint(session):
            if mac is not None:
                nic.mac_address = normalise_mac(mac)
            if ip is not None:
                nic.ip4_address = validate.ipv4(ip, parameter="ip")
            if ip6 is not None:
                nic.ip6_address = validate.ip_any(ip6, parameter="ip6address")
            session.flush()
    except IntegrityError:
        raise Conflict(f"The address given for NIC {nic.uuid} is already in use") from None
    return nic


def attach_to_instance(session: Session, nic_ids: Iterable[int], instance_id: int) -> None:
    """Point NICs allocated before their instance row existed at that instance."""
    session.execute(update(Nic).where(Nic.id.in_(list(nic_ids))).values(instance_id=instance_id))


def release_nic(session: Session, nic: Nic) -> None:
    """Delete the NIC; its MAC and IP become free."""
    session.delete(nic)
    session.flush()


def release_instance_nics(session: Session, instance_id: int) -> int:
    """Delete every NIC of an instance; returns how many there were."""
    result = session.execute(delete(Nic).where(Nic.instance_id == instance_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# Built once (the NICs of every instance an operation touches or a response shows): plain columns, no ORM
# objects, and a cache key computed once.
_VIEWS = (
    select(
        Nic.id, Nic.uuid, Nic.instance_id, Nic.device_id, Nic.is_default, Nic.mac_address, Nic.ip4_address,
        Nic.ip6_address, Nic.broadcast_uri, Nic.isolation_uri, Network.id.label("network_id"),
        Network.uuid.label("network_uuid"), Network.name.label("network_name"), Network.netmask, Network.gateway,
        Network.dns1, Network.dns2, Network.guest_type, Network.traffic_type, Network.broadcast_domain_type,
        Network.vlan, Network.mtu, Network.network_rate, Network.domain_id, Network.account_id, Network.zone_id,
    )
    .join(Network, Network.id == Nic.network_id)
    .where(Nic.instance_id.in_(bindparam("ids", expanding=True)))
    .order_by(Nic.instance_id, Nic.device_id, Nic.id)
)


def nic_views(db: Session | Connection, instance_ids: Iterable[int]) -> dict[int, list[NicView]]:
    """The NICs of many instances in one query, each list ordered by device id (pending ORM changes to
    NICs must have been flushed)."""
    ids = list(set(instance_ids))
    result: dict[int, list[NicView]] = {instance_id: [] for instance_id in ids}
    if not ids:
        return result
    connection = db if isinstance(db, Connection) else db.connection()
    for row in connection.execute(_VIEWS, {"ids": ids}):
        result[row.instance_id].append(NicView(
            id=row.id, uuid=row.uuid, instance_id=row.instance_id, device_id=row.device_id,
            is_default=row.is_default, mac=row.mac_address, ip=row.ip4_address, netmask=row.netmask,
            gateway=row.gateway, ip6_address=row.ip6_address, dns1=row.dns1, dns2=row.dns2,
            network_id=row.network_id, network_uuid=row.network_uuid, network_name=row.network_name,
            guest_type=row.guest_type, traffic_type=row.traffic_type, broadcast_type=row.broadcast_domain_type,
            broadcast_uri=row.broadcast_uri, isolation_uri=row.isolation_uri, vlan=row.vlan, mtu=row.mtu,
            network_rate_mbps=row.network_rate,
            segment_name=f"D{row.domain_id}-A{row.account_id}-Z{row.zone_id}-S{row.network_id}",
        ))
    return result


def view_of(nic: Nic, network: Network) -> NicView:
    """The payload-ready view of one NIC on its network."""
    return NicView(
        id=nic.id, uuid=nic.uuid, instance_id=nic.instance_id, device_id=nic.device_id, is_default=nic.is_default,
        mac=nic.mac_address, ip=nic.ip4_address, netmask=network.netmask, gateway=network.gateway,
        ip6_address=nic.ip6_address, dns1=network.dns1, dns2=network.dns2, network_id=network.id,
        network_uuid=network.uuid, network_name=network.name, guest_type=network.guest_type,
        traffic_type=network.traffic_type, broadcast_type=network.broadcast_domain_type,
        broadcast_uri=nic.broadcast_uri, isolation_uri=nic.isolation_uri, vlan=network.vlan, mtu=network.mtu,
        network_rate_mbps=network.network_rate,
        segment_name=f"D{network.domain_id}-A{network.account_id}-Z{network.zone_id}-S{network.id}",
    )
