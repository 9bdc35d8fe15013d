"""Accounts: creating one with its first user, and listing those the caller may see."""

from __future__ import annotations

from sqlalchemy.orm import Session

from switchboard.caller import Caller
from switchboard.db.models.identity import Account
from switchboard.errors import Conflict, InvalidParameter
from switchboard.identity import paths, repository, scope
from switchboard.identity.domains import domain_for
from switchboard.identity.grants import role_for
from switchboard.identity.projects import not_a_project_account
from switchboard.identity.records import ACCOUNT_TYPES, AccountRecord, role_type_of
from switchboard.identity.users import new_user
from switchboard.roles import RoleType

__all__ = ["create_account", "list_accounts"]


def create_account(session: Session, caller: Caller, *, username: str, password: str, email: str,
                   firstname: str, lastname: str, account_name: str | None = None,
                   domain_uuid: str | None = None, role_uuid: str | None = None,
                   account_type: int | None = None, timezone: str | None = None) -> AccountRecord:
    """Create an account with its first user. Raises NotFound (domain), InvalidParameter (role or
    account type, an Admin account outside ROOT), PermissionDenied (a role above the caller's), Conflict
    (duplicate account or user)."""
    domain = domain_for(session, caller, domain_uuid)
    role = role_for(session, caller, role_uuid=role_uuid, account_type=account_type)
    if role_type_of(role) is RoleType.ADMIN and domain.path != paths.ROOT_PATH:
        # As CloudStack: a Root Admin account anywhere else would sit inside some domain admin's reach.
        raise InvalidParameter(f"Invalid account type {ACCOUNT_TYPES[RoleType.ADMIN]} given for an account in domain "
                               f"{paths.shown(domain.path)}; unable to create user of admin role type in non-ROOT "
                               "domain.", parameter="domainid")
    name = account_name or username
    if repository.find_account(session, Account.domain_id == domain.id, Account.name == name):
        raise Conflict(f"The specified account: {name} already exists in domain {paths.shown(domain.path)}")
    account = Account(name=name, domain_id=domain.id, role_id=role.id)
    repository.add_unique(session, account)
    user = new_user(session, account, domain, username=username, password=password, email=email,
                    firstname=firstname, lastname=lastname, timezone=timezone)
    return AccountRecord(account, domain, role, [user])


def list_accounts(session: Session, caller: Caller, *, uuid: str | None = None, name: str | None = None,
                  domain_uuid: str | None = None, state: str | None = None,
                  keyword: str | None = None) -> list[AccountRecord]:
    """Accounts (with their users) the caller may see, newest first."""
    where = [scope.account_clause(caller, Account.id), not_a_project_account(Account.id)]
    if uuid:
        where.append(Account.uuid == uuid)
    if name:
        where.append(Account.name == name)
    if domain_uuid:
        where.append(Account.domain_id == domain_for(session, caller, domain_uuid).id)
    if state:
        where.append(Account.state == state.lower())
    if keyword:
        where.append(repository.keyword_match(Account.name, keyword))
    return repository.list_accounts(session, *where)
