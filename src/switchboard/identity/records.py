"""Values the identity services hand to the API edge: rows joined with what a response needs."""

from __future__ import annotations

from dataclasses import dataclass, field

from switchboard.db.models.identity import Account, Domain, Role, User
from switchboard.roles import RoleType

# CloudStack's account types by role type (Account.Type): NORMAL 0, ADMIN 1, DOMAIN_ADMIN 2,
# RESOURCE_DOMAIN_ADMIN 3.
ACCOUNT_TYPES: dict[RoleType, int] = {
    RoleType.USER: 0,
    RoleType.ADMIN: 1,
    RoleType.DOMAIN_ADMIN: 2,
    RoleType.RESOURCE_ADMIN: 3,
}


def role_type_of(role: Role) -> RoleType:
    return RoleType.from_wire(role.role_type)


@dataclass(frozen=True)
class UserRecord:
    user: User
    account: Account
    domain: Domain
    role: Role


@dataclass(frozen=True)
class AccountRecord:
    account: Account
    domain: Domain
    role: Role
    users: list[User] = field(default_factory=list)


@dataclass(frozen=True)
class DomainRecord:
    domain: Domain
    parent: Domain | None
    has_child: bool


@dataclass(frozen=True)
class KeyPair:
    """An API key pair in the clear: only ever returned to its owner (or an admin), never stored so."""

    api_key: str
    secret_key: str
