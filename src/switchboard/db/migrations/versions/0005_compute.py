"""Compute: instances and their details, and the lease that keeps the power sync on one server

`nic.instance_id` (infrastructure) refers to `instance.id`; the link is kept by the compute service, as
the extension links of clusters and templates are kept by the extensions service (no foreign key, so the
infrastructure model stays the one description of the `nic` table).

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from switchboard.db.base import UtcDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('compute_lease',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=64), nullable=True),
    sa.Column('expires', UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_compute_lease'))
    )
    op.create_table('instance',
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('display_name', sa.String(length=255), nullable=False),
    sa.Column('instance_name', sa.String(length=255), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('zone_id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.Column('service_offering_id', sa.Integer(), nullable=False),
    sa.Column('host_id', sa.Integer(), nullable=True),
    sa.Column('last_host_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('state_changed', UtcDateTime(timezone=True), nullable=False),
    sa.Column('power_state', sa.String(length=32), nullable=False),
    sa.Column('power_state_updated', UtcDateTime(timezone=True), nullable=True),
    sa.Column('power_off_reports', sa.Integer(), nullable=False),
    sa.Column('vnc_password_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('cpus', sa.Integer(), nullable=False),
    sa.Column('speed', sa.Integer(), nullable=False),
    sa.Column('memory', sa.Integer(), nullable=False),
    sa.Column('arch', sa.String(length=16), nullable=False),
    sa.Column('ha_enabled', sa.Boolean(), nullable=False),
    sa.Column('limit_cpu_use', sa.Boolean(), nullable=False),
    sa.Column('dynamically_scalable', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created', UtcDateTime(timezone=True), nullable=False),
    sa.Column('removed', UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_instance_account_id_accounts')),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_instance_domain_id_domains')),
    sa.ForeignKeyConstraint(['host_id'], ['host.id'], name=op.f('fk_instance_host_id_host')),
    sa.ForeignKeyConstraint(['last_host_id'], ['host.id'], name=op.f('fk_instance_last_host_id_host')),
    sa.ForeignKeyConstraint(['service_offering_id'], ['service_offering.id'],
                            name=op.f('fk_instance_service_offering_id_service_offering')),
    sa.ForeignKeyConstraint(['template_id'], ['template.id'], name=op.f('fk_instance_template_id_template')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_instance_user_id_users')),
    sa.ForeignKeyConstraint(['zone_id'], ['zone.id'], name=op.f('fk_instance_zone_id_zone')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instance')),
    sa.UniqueConstraint('instance_name', name=op.f('uq_instance_instance_name')),
    sa.UniqueConstraint('uuid', name=op.f('uq_instance_uuid'))
    )
    op.create_index(op.f('ix_instance_account_id'), 'instance', ['account_id'], unique=False)
    op.create_index(op.f('ix_instance_domain_id'), 'instance', ['domain_id'], unique=False)
    op.create_index('ix_instance_host_state', 'instance', ['host_id', 'state'], unique=False)
    op.create_index('ix_instance_last_host', 'instance', ['last_host_id'], unique=False)
    op.create_index(op.f('ix_instance_service_offering_id'), 'instance', ['service_offering_id'], unique=False)
    op.create_index(op.f('ix_instance_state'), 'instance', ['state'], unique=False)
    op.create_index(op.f('ix_instance_template_id'), 'instance', ['template_id'], unique=False)
    op.create_index(op.f('ix_instance_zone_id'), 'instance', ['zone_id'], unique=False)
    op.create_table('instance_details',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('display', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['instance.id'], name=op.f('fk_instance_details_instance_id_instance'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instance_details')),
    sa.UniqueConstraint('instance_id', 'name', name=op.f('uq_instance_details_instance_id'))
    )
    op.create_index(op.f('ix_instance_details_instance_id'), 'instance_details', ['instance_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_instance_details_instance_id'), table_name='instance_details')
    op.drop_table('instance_details')
    op.drop_index(op.f('ix_instance_zone_id'), table_name='instance')
    op.drop_index(op.f('ix_instance_template_id'), table_name='instance')
    op.drop_index(op.f('ix_instance_state'), table_name='instance')
    op.drop_index(op.f('ix_instance_service_offering_id'), table_name='instance')
    op.drop_index('ix_instance_last_host', table_name='instance')
    op.drop_index('ix_instance_host_state', table_name='instance')
    op.drop_index(op.f('ix_instance_domain_id'), table_name='instance')
    op.drop_index(op.f('ix_instance_account_id'), table_name='instance')
    op.drop_table('instance')
    op.drop_table('compute_lease')
