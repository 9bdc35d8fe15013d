"""Guest data, storage, tags and projects: SSH key pairs, registered user data and each instance's user
data; disk offerings (seeded as a fresh CloudStack has them) and the volumes of instances; resource tags;
projects with their member accounts

Revision ID: 0009
Revises: 0008
"""

import datetime as dt
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from switchboard.db.base import UtcDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('disk_offering',
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('display_text', sa.String(length=4096), nullable=True),
    sa.Column('disk_size', sa.BigInteger(), nullable=True),
    sa.Column('customized', sa.Boolean(), nullable=False),
    sa.Column('storage_type', sa.String(length=32), nullable=False),
    sa.Column('provisioning_type', sa.String(length=32), nullable=False),
    sa.Column('tags', sa.String(length=4096), nullable=True),
    sa.Column('display_offering', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('sort_key', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created', UtcDateTime(timezone=True), nullable=False),
    sa.Column('removed', UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disk_offering')),
    sa.UniqueConstraint('uuid', name=op.f('uq_disk_offering_uuid'))
    )
    op.create_table('project',
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('display_text', sa.String(length=255), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('project_account_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created', UtcDateTime(timezone=True), nullable=False),
    sa.Column('removed', UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_project_domain_id_domains')),
    sa.ForeignKeyConstraint(['project_account_id'], ['accounts.id'],
                            name=op.f('fk_project_project_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project')),
    sa.UniqueConstraint('project_account_id', name=op.f('uq_project_project_account_id')),
    sa.UniqueConstraint('uuid', name=op.f('uq_project_uuid'))
    )
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_domain_id'), ['domain_id'], unique=False)

    op.create_table('resource_tag',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.Column('resource_type', sa.String(length=32), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('resource_uuid', sa.String(length=40), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('customer', sa.String(length=255), nullable=True),
    sa.Column('created', UtcDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_resource_tag_account_id_accounts')),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_resource_tag_domain_id_domains')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resource_tag')),
    sa.UniqueConstraint('resource_type', 'resource_id', 'key', name=op.f('uq_resource_tag_resource_type')),
    sa.UniqueConstraint('uuid', name=op.f('uq_resource_tag_uuid'))
    )
    with op.batch_alter_table('resource_tag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resource_tag_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_resource_tag_domain_id'), ['domain_id'], unique=False)
        batch_op.create_index('ix_resource_tag_key_value', ['key', 'value'], unique=False)

    op.create_table('ssh_keypair',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=128), nullable=False),
    sa.Column('public_key', sa.Text(), nullable=False),
    sa.Column('created', UtcDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_ssh_keypair_account_id_accounts')),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_ssh_keypair_domain_id_domains')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ssh_keypair')),
    sa.UniqueConstraint('account_id', 'name', name=op.f('uq_ssh_keypair_account_id')),
    sa.UniqueConstraint('uuid', name=op.f('uq_ssh_keypair_uuid'))
    )
    with op.batch_alter_table('ssh_keypair', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ssh_keypair_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ssh_keypair_domain_id'), ['domain_id'], unique=False)

    op.create_table('user_data',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('params', sa.String(length=4096), nullable=True),
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created', UtcDateTime(timezone=True), nullable=False),
    sa.Column('removed', UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_user_data_account_id_accounts')),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_user_data_domain_id_domains')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_data')),
    sa.UniqueConstraint('uuid', name=op.f('uq_user_data_uuid'))
    )
    with op.batch_alter_table('user_data', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_data_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_data_domain_id'), ['domain_id'], unique=False)

    op.create_table('project_account',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('created', UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_project_account_account_id_accounts')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'],
                            name=op.f('fk_project_account_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_account')),
    sa.UniqueConstraint('project_id', 'account_id', name=op.f('uq_project_account_project_id'))
    )
    with op.batch_alter_table('project_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_account_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_account_project_id'), ['project_id'], unique=False)

    op.create_table('instance_user_data',
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('content', sa.Text(), nullable=True),
    sa.Column('user_data_id', sa.Integer(), nullable=True),
    sa.Column('details', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['instance.id'],
                            name=op.f('fk_instance_user_data_instance_id_instance'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_data_id'], ['user_data.id'],
                            name=op.f('fk_instance_user_data_user_data_id_user_data')),
    sa.PrimaryKeyConstraint('instance_id', name=op.f('pk_instance_user_data'))
    )
    with op.batch_alter_table('instance_user_data', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instance_user_data_user_data_id'), ['user_data_id'], unique=False)

    op.create_table('volume',
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('zone_id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('volume_type', sa.String(length=16), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('disk_offering_id', sa.Integer(), nullable=True),
    sa.Column('template_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('provisioning_type', sa.String(length=32), nullable=False),
    sa.Column('storage_type', sa.String(length=32), nullable=False),
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created', UtcDateTime(timezone=True), nullable=False),
    sa.Column('removed', UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_volume_account_id_accounts')),
    sa.ForeignKeyConstraint(['disk_offering_id'], ['disk_offering.id'],
                            name=op.f('fk_volume_disk_offering_id_disk_offering')),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_volume_domain_id_domains')),
    sa.ForeignKeyConstraint(['instance_id'], ['instance.id'], name=op.f('fk_volume_instance_id_instance')),
    sa.ForeignKeyConstraint(['template_id'], ['template.id'], name=op.f('fk_volume_template_id_template')),
    sa.ForeignKeyConstraint(['zone_id'], ['zone.id'], name=op.f('fk_volume_zone_id_zone')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volume')),
    sa.UniqueConstraint('uuid', name=op.f('uq_volume_uuid'))
    )
    with op.batch_alter_table('volume', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volume_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_volume_domain_id'), ['domain_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_volume_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_volume_zone_id'), ['zone_id'], unique=False)
    _seed_disk_offerings()


# name, display text, size in GiB (None: customized)
_DISK_OFFERINGS = [
    ("Small", "Small Disk, 5 GB", 5),
    ("Medium", "Medium Disk, 20 GB", 20),
    ("Large", "Large Disk, 100 GB", 100),
    ("Custom", "Custom Disk", None),
]


def _seed_disk_offerings() -> None:
    now = dt.datetime.now(dt.UTC)
    table = sa.table("disk_offering", *(sa.column(name) for name in (
        "uuid", "name", "display_text", "disk_size", "customized", "storage_type", "provisioning_type",
        "display_offering", "state", "sort_key", "created")))
    op.bulk_insert(table, [
        {"uuid": str(uuid.uuid4()), "name": name, "display_text": text,
         "disk_size": size * 1024 ** 3 if size else None, "customized": size is None, "storage_type": "shared",
         "provisioning_type": "thin", "display_offering": True, "state": "Active", "sort_key": 0, "created": now}
        for name, text, size in _DISK_OFFERINGS
    ])


def downgrade() -> None:
    with op.batch_alter_table('volume', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volume_zone_id'))
        batch_op.drop_index(batch_op.f('ix_volume_instance_id'))
        batch_op.drop_index(batch_op.f('ix_volume_domain_id'))
        batch_op.drop_index(batch_op.f('ix_volume_account_id'))

    op.drop_table('volume')
    with op.batch_alter_table('instance_user_data', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instance_user_data_user_data_id'))

    op.drop_table('instance_user_data')
    with op.batch_alter_table('project_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_account_project_id'))
        batch_op.drop_index(batch_op.f('ix_project_account_account_id'))

    op.drop_table('project_account')
    with op.batch_alter_table('user_data', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_data_domain_id'))
        batch_op.drop_index(batch_op.f('ix_user_data_account_id'))

    op.drop_table('user_data')
    with op.batch_alter_table('ssh_keypair', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ssh_keypair_domain_id'))
        batch_op.drop_index(batch_op.f('ix_ssh_keypair_account_id'))

    op.drop_table('ssh_keypair')
    with op.batch_alter_table('resource_tag', schema=None) as batch_op:
        batch_op.drop_index('ix_resource_tag_key_value')
        batch_op.drop_index(batch_op.f('ix_resource_tag_domain_id'))
        batch_op.drop_index(batch_op.f('ix_resource_tag_account_id'))

    op.drop_table('resource_tag')
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_domain_id'))

    op.drop_table('project')
    op.drop_table('disk_offering')
