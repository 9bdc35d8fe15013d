"""Guest networks: L2, Isolated and Shared, each on a VLAN (or untagged).

CloudStack takes dynamic VLANs from a physical network's range; Switchboard has no physical networks, so
a network created without a VLAN gets the lowest free tag of one configured range (`DYNAMIC_VLANS` by
default; the server passes SWITCHBOARD_GUEST_VLAN_RANGE) in its zone. A partial unique index keeps one live
network per VLAN and zone, also under concurrent creation.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import ColumnElement, Connection, bindparam, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from switchboard.caller import Caller
from switchboard.db.base import utcnow
from switchboard.db.direct import PrebuiltQuery
from switchboard.db.models.identity import Account, Domain
from switchboard.db.models.infrastructure import (
    AllocationState,
    GuestType,
    Network,
    NetworkOffering,
    Nic,
    Zone,
)
from switchboard.errors import Conflict, InvalidParameter, OperationFailed
from switchboard.identity import projects
from switchboard.identity.scope import account_clause, check_account
from switchboard.infra import validate
from switchboard.infra.common import Page, fetch_page, live_by_uuid, live_ref, matches, require_name, savepoint
from switchboard.infra.owners import Owner
from switchboard.infra.usage import NO_CHECKS, UsageChecks

__all__ = [
    "DEFAULT_GUEST_CIDR",
    "DEFAULT_NETWORK_RATE",
    "DYNAMIC_VLANS",
    "UNTAGGED",
    "NetworkRecord",
    "NetworkSpec",
    "broadcast_uri",
    "check_access",
    "check_owner",
    "create_network",
    "delete_network",
    "get_network",
    "list_networks",
    "network_record",
    "parse_vlan",
    "update_network",
]

DYNAMIC_VLANS = range(100, 4095)
DEFAULT_GUEST_CIDR = "10.1.1.0/24"
DEFAULT_NETWORK_RATE = 200  # Mbit/s, CloudStack's network.throttling.rate
UNTAGGED = "untagged"


@dataclass(frozen=True, kw_only=True)
class NetworkSpec:
    name: str
    display_text: str | None = None
    vlan: str | None = None  # "100", "vlan://100" or "untagged"
    gateway: str | None = None
    netmask: str | None = None
    start_ip: str | None = None
    end_ip: str | None = None
    network_domain: str | None = None


@dataclass(frozen=True)
class NetworkRecord:
    network: Network
    zone: Zone
    offering: NetworkOffering
    account: Account
    domain: Domain


def broadcast_uri(vlan: int | None) -> str:
    """`vlan://<tag>`, or `vlan://untagged` for a network without a tag."""
    return f"vlan://{UNTAGGED if vlan is None else vlan}"


def parse_vlan(value: str, *, parameter: str = "vlan") -> int | None:
    """A VLAN tag from "100", "vlan://100" or "untagged" (None); InvalidParameter outside 1-4094."""
    text = value.strip().lower().removeprefix("vlan://")
    if text == UNTAGGED:
        return None
    try:
        tag = int(text)
    except ValueError:
        raise InvalidParameter(f"Invalid VLAN {value}", parameter=parameter) from None
    if not 1 <= tag <= 4094:
        raise InvalidParameter(f"VLAN {tag} is out of range 1-4094", parameter=parameter)
    return tag


def get_network(session: Session, uuid: str, *, parameter: str = "networkid") -> Network:
    return live_by_uuid(session, Network, uuid, parameter=parameter, label="network")


class NetworkRef(NamedTuple):
    """What deploying an instance reads of a live network, with its owner's domain path (for the access
    check) — no ORM entity."""

    id: int
    uuid: str
    name: str
    zone_id: int
    guest_type: str
    state: str
    vlan: int | None
    gateway: str | None
    start_ip: str | None
    end_ip: str | None
    account_id: int
    domain_id: int
    domain_path: str


# Built once: every deploy reads its networks and their owners' domain paths.
_REF = PrebuiltQuery(
    select(Network.id, Network.uuid, Network.name, Network.zone_id, Network.guest_type, Network.state, Network.vlan,
           Network.gateway, Network.start_ip, Network.end_ip, Network.account_id, Network.domain_id, Domain.path)
    .join(Domain, Domain.id == Network.domain_id)
    .where(Network.uuid == bindparam("uuid"), Network.removed.is_(None)),
    row_type=NetworkRef._make,
)


def network_ref(connection: Connection, uuid: str, *, parameter: str = "networkid") -> NetworkRef:
    """The live network `uuid` as a NetworkRef; NotFound naming `parameter` otherwise (as get_network)."""
    ref: NetworkRef = live_ref(connection, _REF, uuid, parameter=parameter, label="network")
    return ref


def account_networks(session: Session, *, account_id: int, zone_id: int, guest_type: str) -> list[NetworkRef]:
    """The account's own live networks of `guest_type` in the zone, oldest first (CloudStack's
    listNetworksForAccount)."""
    rows = session.execute(
        select(Network.id, Network.uuid, Network.name, Network.zone_id, Network.guest_type, Network.state,
               Network.vlan, Network.gateway, Network.start_ip, Network.end_ip, Network.account_id,
               Network.domain_id, Domain.path)
        .join(Domain, Domain.id == Network.domain_id)
        .where(Network.account_id == account_id, Network.zone_id == zone_id, Network.guest_type == guest_type,
               Network.removed.is_(None))
        .order_by(Network.id)
    ).all()
    return [NetworkRef._make(row) for row in rows]


def check_ref_access(caller: Caller, network: NetworkRef, session: Session | None = None) -> None:
    """`check_access` for a NetworkRef (its domain path is already read): PermissionDenied unless `caller`
    may put instances on it. With `session`, a project's network is open to the project's members too."""
    if network.guest_type == GuestType.SHARED.value:
        return
    if session is not None:
        projects.check_owner(session, caller, account_id=network.account_id, domain_path_stored=network.domain_path)
    else:
        check_account(caller, account_id=network.account_id, domain_path_stored=network.domain_path)


def check_access(session: Session, caller: Caller, network: Network) -> None:
    """PermissionDenied unless `caller` may put instances on `network`: its owner's scope, or any Shared
    network."""
    if network.guest_type == GuestType.SHARED.value:
        return
    check_owner(session, caller, network)


def check_owner(session: Session, caller: Caller, network: Network) -> None:
    """PermissionDenied unless `caller` may change or delete `network` (the owner's account scope, or a
    member of the project that owns it)."""
    domain_path = session.execute(select(Domain.path).where(Domain.id == network.domain_id)).scalar_one()
    projects.check_owner(session, caller, account_id=network.account_id, domain_path_stored=domain_path)


def _addressing(offering: NetworkOffering, zone: Zone, spec: NetworkSpec) -> dict[str, str | None]:
    gateway = validate.ipv4(spec.gateway, parameter="gateway")
    netmask = validate.netmask(spec.netmask)
    start_ip = validate.ipv4(spec.start_ip, parameter="startip")
    end_ip = validate.ipv4(spec.end_ip, parameter="endip")
    if offering.guest_type == GuestType.L2.value:
        for value, parameter in ((gateway, "gateway"), (netmask, "netmask"), (start_ip, "startip")):
            if value:
                raise InvalidParameter(f"{parameter} is not supported for L2 networks", parameter=parameter)
        return {"gateway": None, "netmask": None, "cidr": None, "start_ip": None, "end_ip": None}
    if offering.guest_type == GuestType.SHARED.value and not (gateway and netmask and start_ip):
        missing = next(p for v, p in ((gateway, "gateway"), (netmask, "netmask"), (start_ip, "startip")) if not v)
        raise InvalidParameter(f"{missing} is required for Shared networks", parameter=missing)
    if bool(gateway) != bool(netmask):
        raise InvalidParameter("gateway and netmask must be given together", parameter="netmask" if gateway
                               else "gateway")
    if gateway and netmask:
        subnet = ipaddress.IPv4Network(f"{gateway}/{netmask}", strict=False)
    else:
        subnet = ipaddress.IPv4Network(zone.guest_cidr or DEFAULT_GUEST_CIDR)
        gateway, netmask = str(next(subnet.hosts())), str(subnet.netmask)
    if subnet.prefixlen > 30:
        raise InvalidParameter(f"The subnet {subnet} is too small for a guest network", parameter="netmask")
    first, last = subnet.network_address + 1, subnet.broadcast_address - 1
    if not start_ip:
        start_ip = str(first + 1 if str(first) == gateway else first)
    end_ip = end_ip or (start_ip if spec.start_ip and not spec.end_ip else str(last))
    validate.same_subnet(gateway, netmask, (start_ip, "startip"), (end_ip, "endip"))
    validate.ip_range(start_ip, end_ip)
    return {"gateway": gateway, "netmask": netmask, "cidr": str(subnet), "start_ip": start_ip, "end_ip": end_ip}


def create_network(
    session: Session, caller: Caller, zone: Zone, offering: NetworkOffering, spec: NetworkSpec,
    *, owner: Owner | None = None, dynamic_vlans: range = DYNAMIC_VLANS,
) -> Network:
    """Create a guest network owned by `owner` (default: the caller's account).

    Only admins give a VLAN; offerings with `specifyvlan` require one. Without one, a free VLAN of the
    zone is taken (Conflict when none is left, or when the given VLAN is in use in the zone).
    """
    name = require_name(spec.name)
    if offering.state != AllocationState.ENABLED.value:
        raise InvalidParameter(f"Network offering {offering.name} is not enabled", parameter="networkofferingid")
    if zone.allocation_state != AllocationState.ENABLED.value and not caller.is_admin:
        raise InvalidParameter(f"Zone {zone.name} is disabled", parameter="zoneid")
    if spec.vlan is not None and not caller.is_admin:
        raise InvalidParameter("Only ROOT admin is allowed to specify vlan", parameter="vlan")
    if offering.specify_vlan and spec.vlan is None:
        raise InvalidParameter(f"vlan is required by network offering {offering.name}", parameter="vlan")
    addressing = _addressing(offering, zone, spec)
    network = Network(
        name=name, display_text=spec.display_text or name, zone_id=zone.id, network_offering_id=offering.id,
        guest_type=offering.guest_type, traffic_type=offering.traffic_type, broadcast_domain_type="Vlan",
        dns1=zone.dns1, dns2=zone.dns2, network_domain=spec.network_domain or zone.network_domain,
        network_rate=offering.network_rate or DEFAULT_NETWORK_RATE,
        acl_type="Domain" if offering.guest_type == GuestType.SHARED.value else "Account",
        account_id=owner.account_id if owner else caller.account_id,
        domain_id=owner.domain_id if owner else caller.domain_id, **addressing,
    )
    if spec.vlan is not None:
        network.vlan = parse_vlan(spec.vlan)
        _insert(session, network, explicit=True)
    else:
        _insert_with_dynamic_vlan(session, network, dynamic_vlans)
    return network


def _insert(session: Session, network: Network, *, explicit: bool) -> bool:
    """Insert under a savepoint; False when the VLAN was taken meanwhile (raises for an explicit VLAN)."""
    try:
        with savepoint(session):
            session.add(network)
            session.flush()
        return True
    except IntegrityError:
        if explicit:
            raise Conflict(f"The VLAN tag {network.vlan} is already being used in this zone") from None
        return False


def _insert_with_dynamic_vlan(session: Session, network: Network, dynamic_vlans: range) -> None:
    for _attempt in range(20):
        used = set(session.execute(
            select(Network.vlan).where(Network.zone_id == network.zone_id, Network.removed.is_(None),
                                       Network.vlan.is_not(None))
        ).scalars())
        network.vlan = next((tag for tag in dynamic_vlans if tag not in used), None)
        if network.vlan is None:
            raise Conflict("Unable to allocate a VLAN: every VLAN of the zone is in use")
        if _insert(session, network, explicit=False):
            return
        # The savepoint's rollback expunged the row; the next round adds it again with another tag.
    raise OperationFailed("Unable to allocate a VLAN: too much contention, try again")


def update_network(
    session: Session, network: Network, *, name: str | None = None, display_text: str | None = None,
    network_domain: str | None = None, display: bool | None = None,
) -> Network:
    """Change the given descriptive fields (addressing and VLAN are fixed for the network's life)."""
    if name is not None:
        network.name = require_name(name)
    if display_text is not None:
        network.display_text = display_text
    if network_domain is not None:
        network.network_domain = network_domain or None
    if display is not None:
        network.display = display
    session.flush()
    return network


def delete_network(session: Session, network: Network, *, checks: UsageChecks = NO_CHECKS) -> None:
    """Soft-delete `network` (its VLAN becomes free); Conflict while instances have NICs on it."""
    if session.execute(select(exists().where(Nic.network_id == network.id))).scalar():
        raise Conflict(f"Network {network.name} cannot be deleted while instances have NICs on it",
                       uuids=[network.uuid])
    checks.ensure_unused(session, "network", network.id, uuid=network.uuid)
    network.removed = utcnow()
    network.state = "Destroy"
    session.flush()


def network_record(session: Session, network: Network) -> NetworkRecord:
    """`network` with its zone, offering and owner (no visibility check: the caller has done it)."""
    zone, offering = session.get(Zone, network.zone_id), session.get(NetworkOffering, network.network_offering_id)
    account, domain = session.get(Account, network.account_id), session.get(Domain, network.domain_id)
    if zone is None or offering is None or account is None or domain is None:
        raise OperationFailed(f"Network {network.uuid} refers to rows that do not exist")
    return NetworkRecord(network, zone, offering, account, domain)


def list_networks(
    session: Session,
    caller: Caller,
    page: Page,
    *,
    list_all: bool = False,
    uuid: str | None = None,
    ids: list[str] | None = None,
    zone_id: int | None = None,
    guest_type: str | None = None,
    traffic_type: str | None = None,
    offering_id: int | None = None,
    vlan: int | None = None,
    tagged: ColumnElement[bool] | None = None,
    account_id: int | None = None,
) -> tuple[list[NetworkRecord], int]:
    """Networks the caller may see, ordered by id: its own account's, plus (with `list_all`, or when
    asking by id) everything its role may see. Shared networks are visible to everyone."""
    stmt = (
        select(Network, Zone, NetworkOffering, Account, Domain)
        .join(Zone, Zone.id == Network.zone_id)
        .join(NetworkOffering, NetworkOffering.id == Network.network_offering_id)
        .join(Account, Account.id == Network.account_id)
        .join(Domain, Domain.id == Network.domain_id)
        .where(Network.removed.is_(None))
        .order_by(Network.id)
    )
    broad = list_all or uuid is not None or bool(ids)
    owner = account_clause(caller, Network.account_id) if broad else Network.account_id == caller.account_id
    if account_id is not None:  # an account (or project) the caller was checked to act for
        stmt = stmt.where(Network.account_id == account_id)
    else:
        stmt = stmt.where(owner | (Network.guest_type == GuestType.SHARED.value))
    filters = [
        (Network.uuid, uuid), (Network.zone_id, zone_id), (Network.guest_type, guest_type),
        (Network.traffic_type, traffic_type), (Network.network_offering_id, offering_id), (Network.vlan, vlan),
    ]
    for column, value in filters:
        if value is not None:
            stmt = stmt.where(column == value)
    if ids:
        stmt = stmt.where(Network.uuid.in_(ids))
    if tagged is not None:  # resource tags (the API's tags[] filter)
        stmt = stmt.where(tagged)
    if page.keyword:
        stmt = stmt.where(matches(Network.name, page.keyword))
    rows, total = fetch_page(session, stmt, page)
    return [NetworkRecord(*row) for row in rows], total
