"""The payload's `caller` (CloudStack 4.22+) for a run: the job submitter's user and role, as the API shows
them. Kept here so that a run's payload depends only on the submitter, not on the compute service's internals."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from switchboard.db.models.identity import Account, Role, User
from switchboard.extensions.payload_model import CallerInfo
from switchboard.jobs import JobOwner

__all__ = ["caller_of"]

# CloudStack's Account.Type names by role type, as `caller.type` shows them.
_ACCOUNT_TYPES = {"Admin": "ADMIN", "DomainAdmin": "DOMAIN_ADMIN", "ResourceAdmin": "RESOURCE_DOMAIN_ADMIN",
                  "User": "NORMAL"}


def caller_of(session: Session, owner: JobOwner) -> CallerInfo | None:
    """The submitter as CallerInfo (one query); None for a system job or a user that no longer exists."""
    if owner.user_id is None:
        return None
    row = session.execute(
        select(User.uuid, User.username, Role.uuid, Role.name, Role.role_type)
        .join(Account, Account.id == User.account_id).join(Role, Role.id == Account.role_id)
        .where(User.id == owner.user_id)
    ).first()
    if row is None:
        return None
    user_uuid, username, role_uuid, role_name, role_type = row
    return CallerInfo(id=user_uuid, name=username, type=_ACCOUNT_TYPES.get(role_type, "NORMAL"),
                      role_id=role_uuid, role_name=role_name, role_type=role_type)
