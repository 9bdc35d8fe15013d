"""listConfigurations and updateConfiguration: the settings of `switchboard.configuration`, per scope.

Server settings (`Setting.variable`) show the value this server runs with; only dynamic ones may be
changed here (globally), the others through their environment variable and a restart."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select

from switchboard import configuration
from switchboard.api.audit import audit
from switchboard.api.call import Call
from switchboard.api.params import Param, ParamType
from switchboard.api.registry import api_command
from switchboard.api.responses import ListResponse, ObjectResponse, paginate
from switchboard.api.shapes import Field, Shape, T
from switchboard.configuration import DEFINITIONS, Scope, Setting
from switchboard.db.models.identity import Account, Domain
from switchboard.errors import InvalidParameter, NotFound

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


CONFIGURATION = Shape("configuration", [
    Field("category", T.STRING, "the category of the configuration"),
    Field("name", T.STRING, "the name of the configuration"),
    Field("value", T.STRING, "the value of the configuration"),
    Field("defaultvalue", T.STRING, "the default value of the configuration"),
    Field("description", T.STRING, "the description of the configuration"),
    Field("type", T.STRING, "the type of the configuration value"),
    Field("scope", T.STRING, "scope(zone/cluster/pool/account) of the parameter that needs to be updated"),
    Field("isdynamic", T.BOOLEAN, "true if the configuration is dynamic"),
    Field("accountid", T.STRING, "the account whose value is shown"),
    Field("domainid", T.STRING, "the domain whose value is shown"),
])


def _view(setting: Setting, value: str, scope: Scope, ids: dict[str, str]) -> dict[str, Any]:
    return {
        "category": setting.category,
        "name": setting.name,
        "value": value,
        "defaultvalue": setting.default,
        "description": setting.description,
        "type": setting.type,
        "scope": scope.value,
        "isdynamic": setting.dynamic,
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
    response=CONFIGURATION,
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
        if setting.variable is not None:  # a server setting: what this server runs with
            value = call.services.settings.value(setting.name)
        else:
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
    response=CONFIGURATION,
)
def update_configuration(call: Call) -> ObjectResponse:
    scope, scope_id, ids = _target(call)
    name = call.get("name")
    setting = configuration.service.setting(name)
    if not setting.dynamic:
        raise InvalidParameter(f"Configuration {name} is not dynamic: set {setting.variable} and restart the server",
                               parameter="name")
    value = configuration.set_value(call.session, name, call.get("value"), scope=scope, scope_id=scope_id)
    # No resource on the event: a setting has no uuid (its name, in the text, may be longer than one).
    audit(call, "CONFIGURATION.VALUE.EDIT", f"Set {name} to {value}" + (f" for the {scope.value}" if ids else ""))
    # Verified API keys are cached with what `api.key.access` allowed: every server must reload them.
    call.services.credentials.record(call.session)
    # This server reads the new value at its next use once it is committed (the others within LIVE_TTL).
    event.listen(call.session, "after_commit", lambda _session: call.services.settings.forget(), once=True)
    return ObjectResponse("configuration", _view(setting, value, scope, ids))
