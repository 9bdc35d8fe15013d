"""Identity: domains, accounts, users, roles, API keys, sessions

Revision ID: 0001
Revises: None
"""

from collections.abc import Sequence

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # filled in by the identity work


def downgrade() -> None:
    pass
