"""The infrastructure migration creates exactly the tables the models declare, and seeds defaults."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

import switchboard.db.models  # noqa: F401  (every table)
from switchboard.db.base import Base
from switchboard.db.engine import Database
from switchboard.db.models import events, infrastructure
from switchboard.db.models.infrastructure import GuestOs, NetworkOffering, ServiceOffering

pytestmark = pytest.mark.database

OWN_TABLES = {
    value.__table__.name
    for module in (infrastructure, events)
    for value in vars(module).values()
    if isinstance(getattr(value, "__table__", None), Table)
}


def _tables_named_in(diff: object) -> set[str]:
    """Table names an Alembic comparison entry mentions (entries are tuples, or lists of tuples)."""
    entries = diff if isinstance(diff, list) else [diff]
    names: set[str] = set()
    for entry in entries:
        for part in entry:
            if isinstance(part, Table):
                names.add(part.name)
            elif isinstance(getattr(part, "table", None), Table):
                names.add(part.table.name)
            elif isinstance(part, str):
                names.add(part)
    return names


def test_migrated_schema_matches_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    ours = [diff for diff in differences if _tables_named_in(diff) & OWN_TABLES]
    assert ours == []
    assert {"zone", "pod", "cluster", "host", "template", "service_offering", "network", "nic", "event"} <= OWN_TABLES


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
