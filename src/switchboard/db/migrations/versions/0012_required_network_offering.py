"""The Isolated offering with Source NAT is Required, as a fresh CloudStack seeds it: a deploy without networks
by an account that has none makes its "<account>-network" from it

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OFFERING = "DefaultIsolatedNetworkOfferingWithSourceNatService"
_network_offering = sa.table("network_offering", sa.column("name"), sa.column("availability"),
                             sa.column("removed"))


def upgrade() -> None:
    # Only where no operator has made another offering Required meanwhile: there is one at most.
    required = op.get_bind().execute(sa.select(sa.func.count()).select_from(_network_offering).where(
        _network_offering.c.availability == "Required", _network_offering.c.removed.is_(None))).scalar_one()
    if not required:
        op.execute(_network_offering.update().where(_network_offering.c.name == _OFFERING)
                   .values(availability="Required"))


def downgrade() -> None:
    op.execute(_network_offering.update().where(_network_offering.c.name == _OFFERING)
               .values(availability="Optional"))
