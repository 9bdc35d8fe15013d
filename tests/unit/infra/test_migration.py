"""The infrastructure migration seeds the default offerings and OS types (tests/unit/db pins the schema)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from switchboard.db.models.infrastructure import GuestOs, NetworkOffering, ServiceOffering

pytestmark = pytest.mark.database

def test_defaults_are_seeded(session: Session) -> None:
    offerings = {o.name: o for o in session.execute(select(ServiceOffering)).scalars()}
    assert offerings["Small Instance"].cpu == 1 and offerings["Small Instance"].ram_size == 512
    assert offerings["Medium Instance"].speed == 1000 and offerings["Medium Instance"].ram_size == 1024
    network_offerings = {o.name: o for o in session.execute(select(NetworkOffering)).scalars()}
    assert network_offerings["DefaultL2NetworkOffering"].guest_type == "L2"
    assert network_offerings["DefaultL2NetworkOfferingVlan"].specify_vlan is True
    assert network_offerings["DefaultIsolatedNetworkOffering"].guest_type == "Isolated"
    assert network_offerings["DefaultSharedNetworkOffering"].specify_ip_ranges is True
    names = set(session.execute(select(GuestOs.display_name)).scalars())
    assert "Debian GNU/Linux 12 (64-bit)" in names and "Other (64-bit)" in names
