"""listConfigurations and updateConfiguration: the settings of `switchboard.configuration`, per scope."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from switchboard import configuration
from switchboard.api.call import Call
from switchboard.api.params import Param, ParamType
from switchboard.api.registry import api_command
from switchboard.api.responses import ListResponse, ObjectResponse, paginate
from switchboard.configuration import DEFINITIONS, Scope, Setting
from switchboard.db.models.identity import Account, Domain
from switchboard.errors import InvalidParameter, NotFound

IDENTITY_SERVICE = "identity"

_SCOPE_PARAMS = (
    Param("accountid", ParamType.UUID, description="The account whose value to show or set"),
    Param("domainid", ParamType.UUID, description="The domain whose value to show or set"),
)


def _target(call: Call) -> tuple[Scope, int, dict[str, str]]:
    """The scope named by accountid/domainid (at most one), its internal id and the response's id fields."""
    account_uuid, domain_uuid = call.get("accountid"), call.get("domainid")
    if account_uuid and domain_uuid:
        raise InvalidParameter("Specify only one of accountid and domainid", parameter="domainid")
    if account_uuid:
        account_id = call.session.scalar(select(Account.id).where(Account.uuid == account_uuid,
                                                                  Account.removed.is_(None)))
        if account_id is None:
            raise NotFound(f"Unable to find account by id {account_uuid}", uuids=[account_uuid])
        return Scope.ACCOUNT, account_id, {"accountid": account_uuid}
    if domain_uuid:
        domain_id = call.session.scalar(select(Domain.id).where(Domain.uuid == domain_uuid, Domain.removed.is_(None)))
        if domain_id is None:
            raise NotFound(f"Unable to find domain by id {domain_uuid}", uuids=[domain_uuid])
        return Scope.DOMAIN, domain_id, {"domainid": domain_uuid}
    return Scope.GLOBAL, 0, {}


def _view(setting: Setting, value: str, scope: Scope, ids: dict[str, str]) -> dict[str, Any]:
    return {
        "category": setting.category,
        "name": setting.name,
        "value": value,
        "defaultvalue": setting.default,
        "description": setting.description,
        "type": setting.type,
        "scope": scope.value,
        "isdynamic": True,
        **ids,
    }


@api_command(
    "listConfigurations",
    description="Lists the settings operators may change, with the value that applies at the given scope",
    params=[
        Param("name", ParamType.STRING, description="The setting's name"),
        Param("category", ParamType.STRING, description="Only settings of this category"),
        *_SCOPE_PARAMS,
    ],
    response_object="configuration",
    is_list=True,
)
def list_configurations(call: Call) -> ListResponse:
    scope, scope_id, ids = _target(call)
    items = []
    for setting in DEFINITIONS.values():
        if call.get("name") and setting.name != call.get("name"):
            continue
        if call.get("category") and setting.category.lower() != call.get("category", "").lower():
            continue
        if call.keyword and call.keyword.lower() not in setting.name.lower():
            continue
        if scope not in setting.scopes:
            continue
        stored = configuration.scoped_values(call.session, setting.name).get((scope.value, scope_id))
        value = stored if stored is not None else _inherited(call, setting, scope, scope_id)
        items.append(_view(setting, value, scope, ids))
    return ListResponse("configuration", paginate(items, page=call.page, pagesize=call.pagesize), count=len(items))


def _inherited(call: Call, setting: Setting, scope: Scope, scope_id: int) -> str:
    if scope is Scope.ACCOUNT:
        path = call.session.scalar(select(Domain.path).join(Account, Account.domain_id == Domain.id)
                                   .where(Account.id == scope_id))
        return configuration.effective_value(call.session, setting.name, account_id=scope_id, domain_path=path)
    if scope is Scope.DOMAIN:
        path = call.session.scalar(select(Domain.path).where(Domain.id == scope_id))
        return configuration.effective_value(call.session, setting.name, domain_path=path)
    return configuration.effective_value(call.session, setting.name)


@api_command(
    "updateConfiguration",
    description="Sets a setting's value globally, for a domain or for an account",
    params=[
        Param("name", ParamType.STRING, required=True, description="The setting's name"),
        Param("value", ParamType.STRING, required=True, description="The new value"),
        *_SCOPE_PARAMS,
    ],
    response_object="configuration",
)
def update_configuration(call: Call) -> ObjectResponse:
    scope, scope_id, ids = _target(call)
    name = call.get("name")
    value = configuration.set_value(call.session, name, call.get("value"), scope=scope, scope_id=scope_id)
    # Verified API keys are cached with what `api.key.access` allowed: every server must reload them.
    identity = call.services.registry.get(IDENTITY_SERVICE)
    if identity is not None:
        identity.credentials_changed(call.session)
    return ObjectResponse("configuration", _view(configuration.service.setting(name), value, scope, ids))
