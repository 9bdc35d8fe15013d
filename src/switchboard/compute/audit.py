"""Who acts on instances: the payload's `caller` for a job's submitter, and the events instance operations
record (in the transaction of the change they report)."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from switchboard.db.models.compute import Instance
from switchboard.db.models.events import EventLevel
from switchboard.db.models.identity import Account, Role, User
from switchboard.extensions.payload_model import CallerInfo
from switchboard.infra.events import ActorIds, record_event
from switchboard.jobs import JobOwner

__all__ = ["caller_info", "event", "owner_ids"]

# Role type → CloudStack's Account.Type name (the `type` of the payload's `caller`).
_ACCOUNT_TYPES = {"Admin": "ADMIN", "DomainAdmin": "DOMAIN_ADMIN", "ResourceAdmin": "RESOURCE_DOMAIN_ADMIN",
                  "User": "NORMAL"}


# Built once: every operation a user asked for reads its caller.
_CALLER = (
    select(User.uuid, User.username, Role.uuid, Role.name, Role.role_type)
    .join(Account, Account.id == User.account_id).join(Role, Role.id == Account.role_id)
    .where(User.id == bindparam("user_id"))
)


def caller_info(session: Session, owner: JobOwner) -> CallerInfo | None:
    """The payload's `caller` (CloudStack 4.22+) for the job's submitter; None for system jobs."""
    if owner.user_id is None:
        return None
    row = session.connection().execute(_CALLER, {"user_id": owner.user_id}).first()
    if row is None:
        return None
    user_uuid, username, role_uuid, role_name, role_type = row
    return CallerInfo(id=user_uuid, name=username, type=_ACCOUNT_TYPES.get(role_type, "NORMAL"),
                      role_id=role_uuid, role_name=role_name, role_type=role_type)


def owner_ids(instance: Instance) -> ActorIds:
    """The instance's owner as an event actor (for changes no user asked for: repairs, power sync)."""
    return ActorIds(user_id=instance.user_id, account_id=instance.account_id, domain_id=instance.domain_id)


def event(session: Session, instance: Instance, owner: JobOwner, type_: str, description: str, *,
          error: bool = False) -> None:
    """Record an instance event by the job's submitter (or, for system jobs, in the owner's name)."""
    actor = ActorIds(user_id=owner.user_id, account_id=owner.account_id, domain_id=owner.domain_id) \
        if owner.account_id is not None else owner_ids(instance)
    record_event(session, type=type_, description=description, actor=actor, resource_type="VirtualMachine",
                 resource_uuid=instance.uuid, level=EventLevel.ERROR if error else EventLevel.INFO)
