"""Identity: domains, accounts, users, roles, API keys, sessions

Revision ID: 0001
Revises: None
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _uuid_and_times() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("uuid", sa.String(36), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed", sa.DateTime(timezone=True), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "domains",
        *_uuid_and_times(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("parent_id", sa.Integer(), sa.ForeignKey("domains.id", name="fk_domains_parent_id_domains"),
                  nullable=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("network_domain", sa.String(255), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_domains"),
        sa.UniqueConstraint("uuid", name="uq_domains_uuid"),
        sa.UniqueConstraint("path", name="uq_domains_path"),
    )
    op.create_table(
        "roles",
        *_uuid_and_times(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("role_type", sa.String(16), nullable=False),
        sa.Column("description", sa.String(1024), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_roles"),
        sa.UniqueConstraint("uuid", name="uq_roles_uuid"),
        sa.UniqueConstraint("name", name="uq_roles_name"),
    )
    op.create_table(
        "accounts",
        *_uuid_and_times(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("domain_id", sa.Integer(), sa.ForeignKey("domains.id", name="fk_accounts_domain_id_domains"),
                  nullable=False),
        sa.Column("role_id", sa.Integer(), sa.ForeignKey("roles.id", name="fk_accounts_role_id_roles"),
                  nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
        sa.UniqueConstraint("uuid", name="uq_accounts_uuid"),
        sa.UniqueConstraint("domain_id", "name", name="uq_accounts_domain_id_name"),
    )
    op.create_index("ix_accounts_domain_id", "accounts", ["domain_id"])
    op.create_table(
        "users",
        *_uuid_and_times(),
        sa.Column("username", sa.String(255), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id", name="fk_users_account_id_accounts"),
                  nullable=False),
        sa.Column("domain_id", sa.Integer(), sa.ForeignKey("domains.id", name="fk_users_domain_id_domains"),
                  nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("firstname", sa.String(255), nullable=False),
        sa.Column("lastname", sa.String(255), nullable=False),
        sa.Column("email", sa.String(255), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("api_key", sa.String(128), nullable=True),
        sa.Column("secret_key_sealed", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("uuid", name="uq_users_uuid"),
        sa.UniqueConstraint("api_key", name="uq_users_api_key"),
        sa.UniqueConstraint("domain_id", "username", name="uq_users_domain_id_username"),
    )
    op.create_index("ix_users_account_id", "users", ["account_id"])
    op.create_table(
        "login_sessions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("key_digest", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(),
                  sa.ForeignKey("users.id", name="fk_login_sessions_user_id_users", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client_ip", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_login_sessions"),
        sa.UniqueConstraint("key_digest", name="uq_login_sessions_key_digest"),
    )
    op.create_index("ix_login_sessions_user_id", "login_sessions", ["user_id"])


def downgrade() -> None:
    op.drop_table("login_sessions")
    op.drop_table("users")
    op.drop_table("accounts")
    op.drop_table("roles")
    op.drop_table("domains")
