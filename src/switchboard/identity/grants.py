"""Which roles a caller may see, hand out and act on: nobody grants a role above their own, nor acts on an
account of a more privileged role type (CloudStack's hierarchy)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_
from sqlalchemy.orm import Session

from switchboard.caller import Caller
from switchboard.db.models.identity import Role
from switchboard.errors import InvalidParameter, NotFound, PermissionDenied
from switchboard.identity import repository
from switchboard.identity.records import ACCOUNT_TYPES, role_type_of
from switchboard.roles import RoleType

__all__ = ["GRANTABLE", "MANAGEABLE", "check_manageable", "list_roles", "role_for"]

# Which role types a caller of each type may hand out when creating accounts.
GRANTABLE: dict[RoleType, frozenset[RoleType]] = {
    RoleType.ADMIN: frozenset(RoleType),
    RoleType.DOMAIN_ADMIN: frozenset({RoleType.DOMAIN_ADMIN, RoleType.USER}),
    RoleType.RESOURCE_ADMIN: frozenset({RoleType.USER}),
    RoleType.USER: frozenset(),
}

# Whose accounts (users, keys, passwords, states, limits) a caller of each type may act on: its own type and
# the types it may grant. As CloudStack decides it: a caller never acts on a Root Admin account unless it is
# one, never on a role type above its own, and never on a type whose commands are not all its own too (role
# escalation): a ResourceAdmin lacks a DomainAdmin's account management, a DomainAdmin ranks below a
# ResourceAdmin. A User acts on its own user only (`users.user_for`).
MANAGEABLE: dict[RoleType, frozenset[RoleType]] = {
    RoleType.ADMIN: frozenset(RoleType),
    RoleType.DOMAIN_ADMIN: frozenset({RoleType.DOMAIN_ADMIN, RoleType.USER}),
    RoleType.RESOURCE_ADMIN: frozenset({RoleType.RESOURCE_ADMIN, RoleType.USER}),
    RoleType.USER: frozenset({RoleType.USER}),
}


def check_manageable(caller: Caller, *, account_name: str, account_uuid: str, role: Role) -> None:
    """Raise PermissionDenied (CloudStack's texts) unless `caller` may act on an account with `role`."""
    target = role_type_of(role)
    if target in MANAGEABLE[caller.role_type]:
        return
    who = f"[{caller.account_name}, {caller.account_uuid}]"
    whom = f"[{account_name}, {account_uuid}]"
    if target is RoleType.ADMIN:
        raise PermissionDenied(f"Account {who} cannot perform this operation for user account {whom}")
    raise PermissionDenied(f"The calling account {who} has a lower role type than the user account {whom}")


def list_roles(session: Session, caller: Caller, *, uuid: str | None = None, name: str | None = None,
               role_type: RoleType | None = None, keyword: str | None = None) -> list[Role]:
    """Roles the caller may see: its own type and the types it may grant."""
    where: list[ColumnElement[bool]] = []
    if uuid:
        where.append(Role.uuid == uuid)
    if name:
        where.append(Role.name == name)
    if role_type is not None:
        where.append(Role.role_type == role_type.wire_name)
    if keyword:
        where.append(or_(repository.keyword_match(Role.name, keyword),
                         repository.keyword_match(Role.description, keyword)))
    visible = GRANTABLE[caller.role_type] | {caller.role_type}
    return [role for role in repository.list_roles(session, *where) if role_type_of(role) in visible]


def role_for(session: Session, caller: Caller, *, role_uuid: str | None, account_type: int | None) -> Role:
    """The role a new account gets: `role_uuid`, else the default role of `account_type`. Raises
    InvalidParameter/NotFound when there is none, PermissionDenied when the caller may not grant it."""
    if role_uuid:
        role = repository.find_role(session, Role.uuid == role_uuid)
        if role is None:
            raise InvalidParameter(f"Unable to find role by id {role_uuid}", parameter="roleid")
    elif account_type is not None:
        wanted = next((rt for rt, number in ACCOUNT_TYPES.items() if number == account_type), None)
        if wanted is None:
            raise InvalidParameter(f"Invalid account type {account_type}", parameter="accounttype")
        role = repository.find_role(session, Role.role_type == wanted.wire_name, Role.is_default.is_(True))
        if role is None:
            raise NotFound(f"No default role for account type {account_type}")
    else:
        raise InvalidParameter("Either roleid or accounttype must be given", parameter="roleid")
    if role_type_of(role) not in GRANTABLE[caller.role_type]:
        raise PermissionDenied(f"The caller may not create accounts with role {role.name}")
    return role
