"""Reading and setting resource limits for listResourceLimits and updateResourceLimit, with CloudStack's
rules (ResourceLimitManagerImpl): who may set what, and the values each owner has.

* Users see their own account's limits; administrators those of an account or domain they may reach.
* updateResourceLimit: -1 (or no `max`) is unlimited; Root Admin accounts take only -1; nobody sets the
  ROOT domain's, nor - unless a Root Admin - its own account's or own domain's; a domain's limit may not
  exceed its parent's; the account must be one the caller may act on (its role hierarchy).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from switchboard.caller import Caller
from switchboard.compute.limits import (
    ACCOUNT,
    DOMAIN,
    OTHER_TYPES,
    UNLIMITED,
    ResourceType,
    account_limits,
    domain_limits,
)
from switchboard.db.models.identity import Account, Domain, ResourceLimit, Role
from switchboard.errors import InvalidParameter, NotFound, PermissionDenied
from switchboard.identity import grants, paths, scope
from switchboard.identity.domains import domain_for
from switchboard.identity.records import role_type_of
from switchboard.infra.owners import resolve_owner
from switchboard.roles import RoleType

__all__ = ["LimitValue", "list_limits", "resource_type", "set_limit"]


@dataclass(frozen=True)
class LimitValue:
    """One type's limit of an account (with its domain) or of a domain (`account` None)."""

    kind: ResourceType
    maximum: int
    domain: Domain
    account: Account | None


def resource_type(number: int | None, name: str | None) -> ResourceType | None:
    """The type named by `name` (wins) or `number`; None when neither is given. InvalidParameter for an
    unknown type and for CloudStack's types Switchboard does not count."""
    if name is not None:
        kind = ResourceType.by_name(name)
        if kind is None:
            if name not in OTHER_TYPES.values():
                raise InvalidParameter("Please specify a valid resource type name.", parameter="resourcetypename")
            raise _uncounted(name)
        return kind
    if number is None:
        return None
    kind = ResourceType.by_number(number)
    if kind is None:
        if number not in OTHER_TYPES:
            raise InvalidParameter("Please specify valid resource type", parameter="resourcetype")
        raise _uncounted(OTHER_TYPES[number])
    return kind


def _uncounted(name: str) -> InvalidParameter:
    return InvalidParameter(f"Resource type {name} is not limited by Switchboard: only user_vm (0), cpu (8) and "
                            "memory (9) are", parameter="resourcetype")


def _account(session: Session, account_id: int) -> tuple[Account, Domain, Role]:
    row = session.execute(select(Account, Domain, Role).join(Domain, Domain.id == Account.domain_id)
                          .join(Role, Role.id == Account.role_id).where(Account.id == account_id)).first()
    if row is None:
        raise NotFound(f"Unable to find account by id {account_id}")
    account, domain, role = row
    return account, domain, role


def list_limits(session: Session, caller: Caller, kind: ResourceType | None, *, account_name: str | None,
                domain_uuid: str | None) -> list[LimitValue]:
    """The limits of the account named (with its domain), else of the domain named, else of the caller's
    account; a User always gets its own account's."""
    kinds = [kind] if kind is not None else list(ResourceType)
    if caller.role_type is not RoleType.USER and domain_uuid is not None and account_name is None:
        domain = domain_for(session, caller, domain_uuid)
        limits = domain_limits(session, [domain.path])[domain.path]
        return [LimitValue(k, limits[k], domain, None) for k in kinds]
    account_id = caller.account_id
    if caller.role_type is not RoleType.USER and account_name is not None:
        account_id = resolve_owner(session, caller, account=account_name, domain_uuid=domain_uuid).account_id
    account, domain, role = _account(session, account_id)
    admins = [account.id] if role_type_of(role) is RoleType.ADMIN else []
    own = account_limits(session, [account.id], root_admins=admins)[account.id]
    return [LimitValue(k, own[k], domain, account) for k in kinds]


def set_limit(session: Session, caller: Caller, kind: ResourceType, maximum: int | None, *,
              account_name: str | None, domain_uuid: str | None) -> LimitValue:
    """Set the limit of the account named (with its domain) or else of the domain named. Raises
    InvalidParameter, NotFound, PermissionDenied with CloudStack's texts."""
    if maximum is None:
        maximum = UNLIMITED
    elif maximum < UNLIMITED:
        raise InvalidParameter("Please specify either '-1' for an infinite limit, or a limit that is at least '0'.",
                               parameter="max")
    if account_name is not None:
        owner = resolve_owner(session, caller, account=account_name, domain_uuid=domain_uuid)
        account, domain, role = _account(session, owner.account_id)
        if role_type_of(role) is RoleType.ADMIN and maximum != UNLIMITED:
            raise InvalidParameter("Only -1 limit is supported for Root Admin accounts", parameter="max")
        if account.id == caller.account_id and not scope.sees_everything(caller):
            raise PermissionDenied(f"Unable to update resource limit for their own account {account.name}, "
                                   "permission denied")
        grants.check_manageable(caller, account_name=account.name, account_uuid=account.uuid, role=role)
        _store(session, ACCOUNT, account.id, kind, maximum)
        return LimitValue(kind, maximum, domain, account)
    if domain_uuid is None:
        raise InvalidParameter("AccountId or domainId have to be specified in order to update resource limit",
                               parameter="domainid")
    domain = domain_for(session, caller, domain_uuid)
    if domain.path == paths.ROOT_PATH:
        raise PermissionDenied(f"Cannot update resource limit for ROOT domain {domain.uuid}, permission denied")
    if domain.id == caller.domain_id and scope.is_domain_level(caller):
        raise PermissionDenied(f"Unable to update resource limit for domain {domain.uuid}, permission denied")
    parent = session.get(Domain, domain.parent_id) if domain.parent_id is not None else None
    if parent is not None:
        parent_limit = domain_limits(session, [parent.path])[parent.path][kind]
        if parent_limit >= 0 and maximum > parent_limit:
            raise InvalidParameter(f"Domain {parent.name} has maximum allowed resource limit {parent_limit} for "
                                   f"{kind.wire_name}, please specify a value less than or equal to {parent_limit}",
                                   parameter="max")
    _store(session, DOMAIN, domain.id, kind, maximum)
    return LimitValue(kind, maximum, domain, None)


def _store(session: Session, owner_type: str, owner_id: int, kind: ResourceType, maximum: int) -> None:
    row = session.scalars(select(ResourceLimit).where(ResourceLimit.owner_type == owner_type,
                                                      ResourceLimit.owner_id == owner_id,
                                                      ResourceLimit.type == kind.number)).first()
    if row is None:
        session.add(ResourceLimit(owner_type=owner_type, owner_id=owner_id, type=kind.number, max=maximum))
    else:
        row.max = maximum
    session.flush()
