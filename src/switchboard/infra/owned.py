"""Objects an account owns (key pairs, user data, volumes, tags): who may see them in a list, and the
owner's names that responses show.

CloudStack lists an account's own objects by default; domain admins and admins see their subtree's or
everything only with `listall=true`, when they name an account, or when they ask for one object by id.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from switchboard.caller import Caller
from switchboard.db.models.identity import Account, Domain
from switchboard.db.models.projects import Project
from switchboard.identity import paths
from switchboard.identity.scope import account_clause

__all__ = ["OwnerNames", "owner_names", "visible"]


def visible(caller: Caller, column: InstrumentedAttribute[int], *, list_all: bool = False,
            account_id: int | None = None, by_id: bool = False) -> ColumnElement[bool]:
    """A WHERE clause on an owner column: the rows a list shows `caller` (see the module docstring).
    `account_id`: only that account's (already checked to be one the caller may act for)."""
    if account_id is not None:
        return column == account_id
    if list_all or by_id:
        return account_clause(caller, column)
    return column == caller.account_id


@dataclass(frozen=True)
class OwnerNames:
    """Who owns an object, as responses name it."""

    account: str
    account_uuid: str
    domain_uuid: str
    domain: str
    domain_path: str
    project_uuid: str | None = None
    project: str | None = None

    def fields(self, *, account_id: bool = False, domain_path: bool = False) -> dict[str, Any]:
        """CloudStack's populateOwner: `projectid` and `project` for a project's object, else `account`;
        then `domainid` and `domain` (and, when asked, `accountid` and `domainpath`)."""
        shown: dict[str, Any] = ({"projectid": self.project_uuid, "project": self.project}
                                 if self.project_uuid else {"account": self.account})
        if account_id:
            shown["accountid"] = self.account_uuid
        shown.update(domainid=self.domain_uuid, domain=self.domain)
        if domain_path:
            shown["domainpath"] = paths.shown(self.domain_path)
        return shown


def owner_names(session: Session, account_ids: Iterable[int]) -> dict[int, OwnerNames]:
    """The names of many accounts, their domains and (for a project's account) projects, in one query."""
    ids = set(account_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Account.id, Account.name, Account.uuid, Domain.uuid, Domain.name, Domain.path, Project.uuid,
               Project.name)
        .join(Domain, Domain.id == Account.domain_id)
        .outerjoin(Project, Project.project_account_id == Account.id)
        .where(Account.id.in_(ids))
    )
    return {row[0]: OwnerNames(*row[1:]) for row in rows}
