"""What a caller may see and touch, by role type.

* Admin: everything.
* DomainAdmin and ResourceAdmin: the accounts and domains in their domain's subtree.
* User: its own account (and, for domains, its own domain).

Other areas use `account_clause` to filter their list queries by owner, and `check_account` before acting
on one object, so that every list and every action follows the same rule.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import InstrumentedAttribute

from switchboard.caller import Caller
from switchboard.db.models.identity import Account, Domain
from switchboard.errors import PermissionDenied
from switchboard.identity import paths
from switchboard.roles import RoleType

_DOMAIN_LEVEL = frozenset({RoleType.DOMAIN_ADMIN, RoleType.RESOURCE_ADMIN})


def sees_everything(caller: Caller) -> bool:
    return caller.role_type is RoleType.ADMIN


def is_domain_level(caller: Caller) -> bool:
    return caller.role_type in _DOMAIN_LEVEL


def caller_subtree(caller: Caller) -> str:
    """The stored path of the caller's domain ("/" or "/a/b/")."""
    return paths.stored(caller.domain_path)


def account_clause(caller: Caller, account_id: InstrumentedAttribute[int] | ColumnElement[int]) -> ColumnElement[bool]:
    """A WHERE clause on an owner column (`accounts.id` values) limiting rows to what `caller` may see."""
    if sees_everything(caller):
        return true()
    if is_domain_level(caller):
        subtree = caller_subtree(caller)
        visible = (
            select(Account.id)
            .join(Domain, Account.domain_id == Domain.id)
            .where(Domain.path.startswith(subtree, autoescape=True))
        )
        return account_id.in_(visible)
    return account_id == caller.account_id


def domain_clause(caller: Caller, domain_path: InstrumentedAttribute[str]) -> ColumnElement[bool]:
    """A WHERE clause on `domains.path` limiting domains to the caller's subtree (a User: its own domain)."""
    if sees_everything(caller):
        return true()
    subtree = caller_subtree(caller)
    if is_domain_level(caller):
        return domain_path.startswith(subtree, autoescape=True)
    return domain_path == subtree


def can_access_domain(caller: Caller, domain_path_stored: str) -> bool:
    if sees_everything(caller):
        return True
    if is_domain_level(caller):
        return paths.in_subtree(domain_path_stored, caller_subtree(caller))
    return domain_path_stored == caller_subtree(caller)


def check_account(caller: Caller, *, account_id: int, domain_path_stored: str) -> None:
    """Raise PermissionDenied unless `caller` may act on objects owned by that account."""
    if sees_everything(caller):
        return
    if is_domain_level(caller) and paths.in_subtree(domain_path_stored, caller_subtree(caller)):
        return
    if account_id == caller.account_id:
        return
    raise PermissionDenied("The caller does not have permission to access this account's resources")
