"""The ZoneResponse is the same, field for field and in order, for a Zone entity and a listing row."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from switchboard.api.commands.zones import zone_view
from switchboard.db.models.infrastructure import Zone
from switchboard.infra import zones
from switchboard.infra.common import Page

pytestmark = pytest.mark.database


def _expected(zone: Zone, *, full: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": zone.uuid, "name": zone.name, "description": zone.description, "networktype": zone.network_type,
        "securitygroupsenabled": zone.security_groups_enabled, "allocationstate": zone.allocation_state,
        "zonetoken": zone.zone_token, "dhcpprovider": "VirtualRouter",
        "localstorageenabled": zone.local_storage_enabled, "type": "Core", "tags": [], "hasannotations": False,
        "isnsxenabled": False, "allowuserspecifyvrmtu": False,
    }
    if full:
        fields.update({
            "dns1": zone.dns1, "dns2": zone.dns2, "ip6dns1": zone.ip6_dns1, "ip6dns2": zone.ip6_dns2,
            "internaldns1": zone.internal_dns1, "internaldns2": zone.internal_dns2,
            "guestcidraddress": zone.guest_cidr, "domain": zone.network_domain,
        })
    return {key: value for key, value in fields.items() if value is not None}


def test_entity_and_row_views_match_cloudstacks_field_list(session: Session) -> None:
    sparse = zones.create_zone(session, zones.ZoneSpec(name="sparse"))
    rich = zones.create_zone(session, zones.ZoneSpec(
        name="rich", description="d", network_type="Basic", dns1="192.0.2.1", dns2="192.0.2.2",
        internal_dns1="192.0.2.3", internal_dns2="192.0.2.4", ip6_dns1="2001:db8::1", ip6_dns2="2001:db8::2",
        guest_cidr="10.1.0.0/16", network_domain="example.org", local_storage_enabled=True))
    session.commit()
    rows, _ = zones.list_zones(session, Page())
    by_uuid = {row.uuid: row for row in rows}
    for zone in (sparse, rich):
        for full in (False, True):
            expected = _expected(zone, full=full)
            assert list(zone_view(zone, full=full).items()) == list(expected.items())
            assert list(zone_view(by_uuid[zone.uuid], full=full).items()) == list(expected.items())
    assert zone_view(rich, full=False)["tags"] is not zone_view(rich, full=False)["tags"]
