"""Console sessions: the console endpoints createConsoleEndpoint handed out, with their single-use tickets

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from switchboard.db.base import UtcDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('console_session',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('host_id', sa.Integer(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('creator_address', sa.String(length=64), nullable=False),
    sa.Column('client_address', sa.String(length=64), nullable=True),
    sa.Column('expires', UtcDateTime(timezone=True), nullable=False),
    sa.Column('acquired', UtcDateTime(timezone=True), nullable=True),
    sa.Column('connection_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created', UtcDateTime(timezone=True), nullable=False),
    sa.Column('removed', UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_console_session_account_id_accounts')),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_console_session_domain_id_domains')),
    sa.ForeignKeyConstraint(['host_id'], ['host.id'], name=op.f('fk_console_session_host_id_host')),
    sa.ForeignKeyConstraint(['instance_id'], ['instance.id'], name=op.f('fk_console_session_instance_id_instance')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_console_session_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_console_session')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_console_session_token_hash')),
    sa.UniqueConstraint('uuid', name=op.f('uq_console_session_uuid'))
    )
    op.create_index(op.f('ix_console_session_expires'), 'console_session', ['expires'], unique=False)
    op.create_index(op.f('ix_console_session_instance_id'), 'console_session', ['instance_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_console_session_instance_id'), table_name='console_session')
    op.drop_index(op.f('ix_console_session_expires'), table_name='console_session')
    op.drop_table('console_session')
