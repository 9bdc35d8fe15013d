"""The owner parameters most commands that make or list account-owned objects accept: `account` with
`domainid`, or `projectid`, as CloudStack's finalizeOwner and list ACL rules read them."""

from __future__ import annotations

from switchboard.api.call import Call
from switchboard.api.params import Param, ParamType
from switchboard.errors import InvalidParameter
from switchboard.identity import projects
from switchboard.infra.owners import Owner, resolve_owner

__all__ = ["OWNER_PARAMS", "list_owner", "owner_of_call"]

OWNER_PARAMS = (
    Param("account", description="an optional account; must be used with domainid"),
    Param("domainid", ParamType.UUID, description="an optional domain ID; must be used with account"),
    Param("projectid", ParamType.UUID, description="an optional project"),
)


def owner_of_call(call: Call) -> Owner:
    """Who will own what the call makes: the project's account (`projectid`, for its members), the named
    account (`account` + `domainid`, for those who may act for it), else the caller's own account."""
    project_uuid = call.get("projectid")
    if project_uuid is not None:
        if call.get("account") is not None:
            raise InvalidParameter("ProjectId and account/domainId can't be specified together",
                                   parameter="projectid")
        ref = projects.project_account_for(call.session, call.who, project_uuid)
        return Owner(account_id=ref.account_id, domain_id=ref.domain_id)
    return resolve_owner(call.session, call.who, account=call.get("account"), domain_uuid=call.get("domainid"))


def list_owner(call: Call) -> int | None:
    """The account a list is narrowed to by `projectid` or `account` + `domainid`, or None."""
    if call.get("projectid") is None and call.get("account") is None:
        return None
    return owner_of_call(call).account_id
