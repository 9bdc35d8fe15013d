"""Extension runs: every lifecycle run of an extension, recorded so that it outlives its server

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from switchboard.db.base import UtcDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "extension_run",
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("extension_name", sa.String(length=255), nullable=False),
        sa.Column("host_id", sa.Integer(), nullable=True),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("owner_server_id", sa.Integer(), nullable=True),
        sa.Column("owner_runid", sa.String(length=36), nullable=True),
        sa.Column("started_by", sa.String(length=255), nullable=False),
        sa.Column("machine_id", sa.String(length=64), nullable=False),
        sa.Column("boot_id", sa.String(length=64), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("start_ticks", sa.BigInteger(), nullable=True),
        sa.Column("output_file", sa.String(length=4096), nullable=False),
        sa.Column("status_file", sa.String(length=4096), nullable=False),
        sa.Column("started", UtcDateTime(timezone=True), nullable=False),
        sa.Column("deadline", UtcDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("settled", UtcDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["host_id"], ["host.id"], name=op.f("fk_extension_run_host_id_host")),
        sa.ForeignKeyConstraint(["instance_id"], ["instance.id"], name=op.f("fk_extension_run_instance_id_instance")),
        sa.ForeignKeyConstraint(["owner_server_id"], ["management_server.id"],
                                name=op.f("fk_extension_run_owner_server_id_management_server")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_extension_run")),
        sa.UniqueConstraint("uuid", name=op.f("uq_extension_run_uuid")),
    )
    op.create_index(op.f("ix_extension_run_instance_id"), "extension_run", ["instance_id"], unique=False)
    op.create_index("ix_extension_run_state", "extension_run", ["state"], unique=False)
    op.create_index("uq_extension_run_instance_running", "extension_run", ["instance_id"], unique=True,
                    sqlite_where=sa.text("state = 'Running'"), postgresql_where=sa.text("state = 'Running'"))


def downgrade() -> None:
    op.drop_index("uq_extension_run_instance_running", table_name="extension_run")
    op.drop_index("ix_extension_run_state", table_name="extension_run")
    op.drop_index(op.f("ix_extension_run_instance_id"), table_name="extension_run")
    op.drop_table("extension_run")
