"""Extensions: extensions and details, resource map, custom actions and details, per-server entry checksums

The built-in extensions are seeded by the server at start (switchboard.extensions.builtins), not here:
seeding there is idempotent by name, so built-ins added in later releases arrive without a migration.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from switchboard.db.base import UtcDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LIVE = sa.text("removed IS NULL")


def upgrade() -> None:
    op.create_table('extension',
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.String(length=4096), nullable=True),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('relative_path', sa.String(length=2048), nullable=False),
    sa.Column('is_user_defined', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('path_ready', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created', UtcDateTime(timezone=True), nullable=False),
    sa.Column('removed', UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_extension')),
    sa.UniqueConstraint('uuid', name=op.f('uq_extension_uuid'))
    )
    op.create_index('uq_extension_name_live', 'extension', ['name'], unique=True,
                    sqlite_where=_LIVE, postgresql_where=_LIVE)
    op.create_table('extension_custom_action',
    sa.Column('extension_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.String(length=4096), nullable=True),
    sa.Column('resource_type', sa.String(length=32), nullable=True),
    sa.Column('allowed_role_types', sa.Integer(), nullable=False),
    sa.Column('success_message', sa.String(length=4096), nullable=True),
    sa.Column('error_message', sa.String(length=4096), nullable=True),
    sa.Column('timeout', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created', UtcDateTime(timezone=True), nullable=False),
    sa.Column('removed', UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['extension_id'], ['extension.id'],
                            name=op.f('fk_extension_custom_action_extension_id_extension')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_extension_custom_action')),
    sa.UniqueConstraint('uuid', name=op.f('uq_extension_custom_action_uuid'))
    )
    op.create_index(op.f('ix_extension_custom_action_extension_id'), 'extension_custom_action', ['extension_id'],
                    unique=False)
    op.create_index('uq_extension_custom_action_name_live', 'extension_custom_action', ['extension_id', 'name'],
                    unique=True, sqlite_where=_LIVE, postgresql_where=_LIVE)
    op.create_table('extension_details',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('extension_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('display', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['extension_id'], ['extension.id'],
                            name=op.f('fk_extension_details_extension_id_extension'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_extension_details')),
    sa.UniqueConstraint('extension_id', 'name', name=op.f('uq_extension_details_extension_id'))
    )
    op.create_index(op.f('ix_extension_details_extension_id'), 'extension_details', ['extension_id'], unique=False)
    op.create_table('extension_resource_map',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('extension_id', sa.Integer(), nullable=False),
    sa.Column('resource_type', sa.String(length=32), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('created', UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['extension_id'], ['extension.id'],
                            name=op.f('fk_extension_resource_map_extension_id_extension'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_extension_resource_map')),
    sa.UniqueConstraint('resource_type', 'resource_id', name=op.f('uq_extension_resource_map_resource_type'))
    )
    op.create_index(op.f('ix_extension_resource_map_extension_id'), 'extension_resource_map', ['extension_id'],
                    unique=False)
    op.create_table('extension_server_checksum',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('server_id', sa.Integer(), nullable=False),
    sa.Column('extension_id', sa.Integer(), nullable=False),
    sa.Column('checksum', sa.String(length=64), nullable=True),
    sa.Column('updated', UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['extension_id'], ['extension.id'],
                            name=op.f('fk_extension_server_checksum_extension_id_extension'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['server_id'], ['management_server.id'],
                            name=op.f('fk_extension_server_checksum_server_id_management_server'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_extension_server_checksum')),
    sa.UniqueConstraint('server_id', 'extension_id', name=op.f('uq_extension_server_checksum_server_id'))
    )
    op.create_index(op.f('ix_extension_server_checksum_extension_id'), 'extension_server_checksum',
                    ['extension_id'], unique=False)
    op.create_index(op.f('ix_extension_server_checksum_server_id'), 'extension_server_checksum', ['server_id'],
                    unique=False)
    op.create_table('extension_custom_action_details',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('custom_action_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('display', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['custom_action_id'], ['extension_custom_action.id'],
                            name='fk_extension_custom_action_details_action', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_extension_custom_action_details')),
    sa.UniqueConstraint('custom_action_id', 'name', name=op.f('uq_extension_custom_action_details_custom_action_id'))
    )
    op.create_index(op.f('ix_extension_custom_action_details_custom_action_id'), 'extension_custom_action_details',
                    ['custom_action_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_extension_custom_action_details_custom_action_id'),
                  table_name='extension_custom_action_details')
    op.drop_table('extension_custom_action_details')
    op.drop_index(op.f('ix_extension_server_checksum_server_id'), table_name='extension_server_checksum')
    op.drop_index(op.f('ix_extension_server_checksum_extension_id'), table_name='extension_server_checksum')
    op.drop_table('extension_server_checksum')
    op.drop_index(op.f('ix_extension_resource_map_extension_id'), table_name='extension_resource_map')
    op.drop_table('extension_resource_map')
    op.drop_index(op.f('ix_extension_details_extension_id'), table_name='extension_details')
    op.drop_table('extension_details')
    op.drop_index('uq_extension_custom_action_name_live', table_name='extension_custom_action',
                  sqlite_where=_LIVE, postgresql_where=_LIVE)
    op.drop_index(op.f('ix_extension_custom_action_extension_id'), table_name='extension_custom_action')
    op.drop_table('extension_custom_action')
    op.drop_index('uq_extension_name_live', table_name='extension', sqlite_where=_LIVE, postgresql_where=_LIVE)
    op.drop_table('extension')
