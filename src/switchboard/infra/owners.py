"""Who owns a network or template: the caller's account, or one an administrator names."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from switchboard.caller import Caller
from switchboard.db.models.identity import Account, Domain
from switchboard.errors import InvalidParameter, NotFound
from switchboard.identity.scope import check_account

__all__ = ["Owner", "resolve_owner"]


@dataclass(frozen=True)
class Owner:
    account_id: int
    domain_id: int


def resolve_owner(session: Session, caller: Caller, *, account: str | None, domain_uuid: str | None) -> Owner:
    """The caller's own account, or `account` in domain `domain_uuid` (given together) when the caller may
    act for it. InvalidParameter when only one is given, NotFound for an unknown account, PermissionDenied
    when the caller may not act for it."""
    if account is None and domain_uuid is None:
        return Owner(account_id=caller.account_id, domain_id=caller.domain_id)
    if account is None or domain_uuid is None:
        missing = "account" if account is None else "domainid"
        raise InvalidParameter("account and domainid must be given together", parameter=missing)
    row = session.execute(
        select(Account.id, Domain.id, Domain.path).join(Domain, Domain.id == Account.domain_id)
        .where(Account.name == account, Domain.uuid == domain_uuid, Account.removed.is_(None))
    ).first()
    if row is None:
        raise NotFound(f"Unable to find account {account} in domain {domain_uuid}", uuids=[domain_uuid])
    account_id, domain_id, domain_path = row
    check_account(caller, account_id=account_id, domain_path_stored=domain_path)
    return Owner(account_id=account_id, domain_id=domain_id)
