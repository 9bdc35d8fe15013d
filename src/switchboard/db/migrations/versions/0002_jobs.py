"""Async jobs and the management servers that run them

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "management_server",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("uuid", sa.String(36), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("runid", sa.String(36), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_heartbeat", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_management_server"),
        sa.UniqueConstraint("uuid", name="uq_management_server_uuid"),
    )
    op.create_table(
        "async_job",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("uuid", sa.String(36), nullable=False),
        sa.Column("command", sa.String(255), nullable=False),
        sa.Column("handler", sa.String(255), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("user_uuid", sa.String(36), nullable=True),
        sa.Column("user_name", sa.String(255), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("account_uuid", sa.String(36), nullable=True),
        sa.Column("account_name", sa.String(255), nullable=True),
        sa.Column("domain_id", sa.Integer(), nullable=True),
        sa.Column("domain_uuid", sa.String(36), nullable=True),
        sa.Column("domain_path", sa.String(1024), nullable=True),
        sa.Column("role_type", sa.String(32), nullable=True),
        sa.Column("instance_type", sa.String(64), nullable=True),
        sa.Column("instance_id", sa.String(255), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("result_code", sa.Integer(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("owner_server_id", sa.Integer(), nullable=True),
        sa.Column("owner_runid", sa.String(36), nullable=True),
        sa.Column("claimed", sa.DateTime(timezone=True), nullable=True),
        sa.Column("interruption", sa.String(1024), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_async_job"),
        sa.UniqueConstraint("uuid", name="uq_async_job_uuid"),
        sa.ForeignKeyConstraint(
            ["owner_server_id"], ["management_server.id"], name="fk_async_job_owner_server_id_management_server"
        ),
    )
    op.create_index("ix_async_job_status_id", "async_job", ["status", "id"])
    op.create_index("ix_async_job_account_id", "async_job", ["account_id"])
    op.create_index("ix_async_job_owner_server_id", "async_job", ["owner_server_id"])
    if op.get_bind().dialect.name == "postgresql":
        # Wake every server's idle workers when jobs are queued: delivered at commit, dropped on rollback.
        op.execute(
            "CREATE FUNCTION switchboard_notify_jobs() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN PERFORM pg_notify('switchboard_jobs', ''); RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER async_job_queued AFTER INSERT ON async_job "
            "FOR EACH STATEMENT EXECUTE FUNCTION switchboard_notify_jobs()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS async_job_queued ON async_job")
        op.execute("DROP FUNCTION IF EXISTS switchboard_notify_jobs()")
    op.drop_table("async_job")
    op.drop_table("management_server")
