"""Resource limits per account and domain; instance details an admin configured hidden from their owners

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "resource_limit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("owner_type", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.Integer(), nullable=False),
        sa.Column("max", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resource_limit")),
        sa.UniqueConstraint("owner_type", "owner_id", "type", name=op.f("uq_resource_limit_owner_type")),
    )
    # Details copied from a template at deploy time were shown to the instance's owner; they stay with
    # admins now, unless the owner owns the template (as deploying does from now on).
    op.execute(sa.text(
        "UPDATE instance_details SET display = :hidden WHERE name LIKE 'External:%' AND EXISTS ("
        " SELECT 1 FROM instance JOIN template ON template.id = instance.template_id"
        " JOIN template_details ON template_details.template_id = template.id"
        " WHERE instance.id = instance_details.instance_id AND template_details.name = instance_details.name"
        " AND template.account_id <> instance.account_id)"
    ).bindparams(hidden=False))


def downgrade() -> None:
    op.drop_table("resource_limit")
