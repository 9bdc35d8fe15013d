"""Zones: create, find, list, update and delete (refused while pods or networks use the zone)."""

from __future__ import annotations

import dataclasses
from collections import namedtuple
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, exists, select
from sqlalchemy.orm import Session

from switchboard.db.base import utcnow
from switchboard.db.direct import PrebuiltQuery
from switchboard.db.models.infrastructure import AllocationState, Network, NetworkType, Pod, Zone
from switchboard.errors import Conflict
from switchboard.infra import validate
from switchboard.infra.common import (
    Page,
    fetch_table_page,
    live_by_uuid,
    live_ref,
    matches,
    one_of,
    require_name,
)

__all__ = ["ZONE_ROW_FIELDS", "ZoneRow", "ZoneSpec", "all_zones", "create_zone", "delete_zone", "get_zone",
           "list_zones", "update_zone"]


@dataclass(frozen=True, kw_only=True)
class ZoneSpec:
    """What createZone/updateZone may set. None means "not given" (keep the current value on update)."""

    name: str | None = None
    description: str | None = None
    network_type: str | None = None
    dns1: str | None = None
    dns2: str | None = None
    internal_dns1: str | None = None
    internal_dns2: str | None = None
    ip6_dns1: str | None = None
    ip6_dns2: str | None = None
    guest_cidr: str | None = None
    network_domain: str | None = None
    allocation_state: str | None = None
    security_groups_enabled: bool | None = None
    local_storage_enabled: bool | None = None


def get_zone(session: Session, uuid: str, *, parameter: str = "zoneid") -> Zone:
    return live_by_uuid(session, Zone, uuid, parameter=parameter, label="zone")


class ZoneRef(NamedTuple):
    """A live zone's id and name (what deploying an instance reads of it)."""

    id: int
    name: str


# Built once: every deploy reads its zone.
_REF = PrebuiltQuery(select(Zone.id, Zone.name).where(Zone.uuid == bindparam("uuid"), Zone.removed.is_(None)),
                     row_type=ZoneRef._make)


def zone_ref(connection: Connection, uuid: str, *, parameter: str = "zoneid") -> ZoneRef:
    """The live zone `uuid` as a ZoneRef; NotFound naming `parameter` otherwise (as get_zone)."""
    ref: ZoneRef = live_ref(connection, _REF, uuid, parameter=parameter, label="zone")
    return ref


def _check_name_free(session: Session, name: str, *, except_id: int | None = None) -> None:
    clash = session.execute(
        select(Zone.id).where(Zone.name == name, Zone.removed.is_(None), Zone.id != (except_id or 0))
    ).first()
    if clash is not None:
        raise Conflict(f"A zone with name {name} already exists")


def _apply(zone: Zone, spec: ZoneSpec) -> None:
    if spec.description is not None:
        zone.description = spec.description
    if spec.network_type is not None:
        zone.network_type = one_of(spec.network_type, [t.value for t in NetworkType], parameter="networktype")
    for attribute, parameter in (
        ("dns1", "dns1"), ("dns2", "dns2"), ("internal_dns1", "internaldns1"), ("internal_dns2", "internaldns2"),
    ):
        value = getattr(spec, attribute)
        if value is not None:
            setattr(zone, attribute, validate.ipv4(value, parameter=parameter))
    for attribute, parameter in (("ip6_dns1", "ip6dns1"), ("ip6_dns2", "ip6dns2")):
        value = getattr(spec, attribute)
        if value is not None:
            setattr(zone, attribute, validate.ip_any(value, parameter=parameter))
    if spec.guest_cidr is not None:
        zone.guest_cidr = validate.cidr(spec.guest_cidr, parameter="guestcidraddress")
    if spec.network_domain is not None:
        zone.network_domain = spec.network_domain or None
    if spec.allocation_state is not None:
        zone.allocation_state = one_of(
            spec.allocation_state, [s.value for s in AllocationState], parameter="allocationstate"
        )
    if spec.security_groups_enabled is not None:
        zone.security_groups_enabled = spec.security_groups_enabled
    if spec.local_storage_enabled is not None:
        zone.local_storage_enabled = spec.local_storage_enabled


def create_zone(session: Session, spec: ZoneSpec) -> Zone:
    """Create a zone. Conflict when a live zone has the name; InvalidParameter for malformed addresses."""
    name = require_name(spec.name)
    _check_name_free(session, name)
    zone = Zone(name=name, network_type=NetworkType.ADVANCED.value, allocation_state=AllocationState.ENABLED.value)
    _apply(zone, spec)
    if zone.network_type == NetworkType.BASIC.value and spec.security_groups_enabled is None:
        zone.security_groups_enabled = True  # CloudStack's basic zones always use security groups
    session.add(zone)
    session.flush()
    return zone


def update_zone(session: Session, zone: Zone, spec: ZoneSpec) -> Zone:
    """Change the given fields of `zone`; the network type cannot change once set."""
    if spec.name is not None:
        name = require_name(spec.name)
        _check_name_free(session, name, except_id=zone.id)
        zone.name = name
    _apply(zone, dataclasses.replace(spec, network_type=None))
    session.flush()
    return zone


def delete_zone(session: Session, zone: Zone) -> None:
    """Soft-delete `zone`; Conflict while live pods or networks belong to it."""
    in_use = session.execute(
        select(
            exists().where(Pod.zone_id == zone.id, Pod.removed.is_(None)),
            exists().where(Network.zone_id == zone.id, Network.removed.is_(None)),
        )
    ).one()
    if in_use[0]:
        raise Conflict(f"The zone {zone.name} is not deletable because there are pods in it", uuids=[zone.uuid])
    if in_use[1]:
        raise Conflict(f"The zone {zone.name} is not deletable because there are networks in it", uuids=[zone.uuid])
    zone.removed = utcnow()
    session.flush()


def all_zones(session: Session) -> Sequence[Zone]:
    """Every live zone, ordered by id."""
    return session.execute(select(Zone).where(Zone.removed.is_(None)).order_by(Zone.id)).scalars().all()


_ZONE = Zone.__table__
# Built once: listZones is the hottest read of the API, and building an ORM statement per request costs
# more than running it. Rows carry the model's attribute names (they equal the column names); the
# timestamps are left out (no view shows them, and turning SQLite's text into datetimes is costly).
_LIVE_ZONES = (select(*(column for column in _ZONE.c if column.key not in ("created", "removed")))
               .where(_ZONE.c.removed.is_(None)).order_by(_ZONE.c.id))
_ENABLED_ZONES = _LIVE_ZONES.where(_ZONE.c.allocation_state == AllocationState.ENABLED.value)
# The attribute names of `list_zones` rows in column order (rows are cheapest read by position).
ZONE_ROW_FIELDS: tuple[str, ...] = tuple(column.key or "" for column in _LIVE_ZONES.selected_columns)
ZoneRow = namedtuple("ZoneRow", ZONE_ROW_FIELDS)  # type: ignore[misc]
# An unfiltered, unpaged listing (the usual one) is read straight off the DB-API cursor.
_ALL_LIVE = PrebuiltQuery(_LIVE_ZONES, row_type=ZoneRow._make)
_ALL_ENABLED = PrebuiltQuery(_ENABLED_ZONES, row_type=ZoneRow._make)


def list_zones(
    db: Session | Connection,
    page: Page,
    *,
    uuid: str | None = None,
    uuids: list[str] | None = None,
    name: str | None = None,
    network_type: str | None = None,
    enabled_only: bool = False,
) -> tuple[Sequence[Any], int]:
    """Live zones ordered by id, as rows with the Zone model's attribute names (`ZONE_ROW_FIELDS`: every
    column but the timestamps); `enabled_only` for callers who may not see disabled zones. Core only,
    on `db`'s connection."""
    if not (uuid or uuids or name or network_type or page.keyword or page.limited):
        connection = db.connection() if isinstance(db, Session) else db
        rows = (_ALL_ENABLED if enabled_only else _ALL_LIVE).rows(connection)
        return rows, len(rows)
    stmt = _ENABLED_ZONES if enabled_only else _LIVE_ZONES
    if uuid:
        stmt = stmt.where(_ZONE.c.uuid == uuid)
    if uuids:
        stmt = stmt.where(_ZONE.c.uuid.in_(uuids))
    if name:
        stmt = stmt.where(_ZONE.c.name == name)
    if network_type:
        stmt = stmt.where(_ZONE.c.network_type == network_type)
    if page.keyword:
        stmt = stmt.where(matches(_ZONE.c.name, page.keyword))
    return fetch_table_page(db, stmt, page)
