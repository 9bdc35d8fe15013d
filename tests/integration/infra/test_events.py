"""Events and alerts over real HTTP: listing by role, archiving, deleting."""

from __future__ import annotations

from typing import Any

import pytest
from cs import CloudStack

from tests.integration.infra.conftest import api_error, unique

pytestmark = pytest.mark.database


def test_a_user_archives_and_deletes_its_own_events(admin_cs: CloudStack, zone: dict[str, Any],
                                                    user_client: tuple[CloudStack, dict[str, Any]]) -> None:
    user_cs, _account = user_client
    isolated = user_cs.listNetworkOfferings(name="DefaultIsolatedNetworkOffering")["networkoffering"][0]
    network = user_cs.createNetwork(zoneid=zone["id"], name=unique("net"), networkofferingid=isolated["id"])["network"]
    event = user_cs.listEvents(resourceid=network["id"])["event"][0]
    assert (event["type"], event["resourcetype"]) == ("NETWORK.CREATE", "Network")
    zone_event = admin_cs.listEvents(resourceid=zone["id"])["event"][0]
    assert user_cs.archiveEvents(ids=f"{event['id']},{zone_event['id']}") == {"success": True}
    assert user_cs.listEvents(resourceid=network["id"]) == {}
    assert admin_cs.listEvents(id=zone_event["id"])["count"] == 1  # not the user's to archive
    assert api_error(user_cs.archiveEvents)["errorcode"] == 431
    assert user_cs.deleteEvents(type="NETWORK.CREATE") == {"success": True}
    assert admin_cs.listEvents(id=event["id"]) == {}


def test_alerts_are_for_admins(admin_cs: CloudStack, user_client: tuple[CloudStack, dict[str, Any]]) -> None:
    user_cs, _account = user_client
    assert api_error(user_cs.listAlerts)["errorcode"] == 432
    assert api_error(user_cs.archiveAlerts, type=33)["errorcode"] == 432
    assert admin_cs.archiveAlerts(type=9999) == {"success": True}
    assert admin_cs.listAlerts(type=9999) == {}
