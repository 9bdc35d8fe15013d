"""CloudStack response objects for identity: domain, account, user, role, userkeys, login."""

from __future__ import annotations

from typing import Any

from switchboard.api.params import format_date
from switchboard.db.models.identity import Account, Domain, Role, User
from switchboard.identity import paths
from switchboard.identity.records import ACCOUNT_TYPES, AccountRecord, DomainRecord, KeyPair, role_type_of


def domain_view(record: DomainRecord) -> dict[str, Any]:
    domain = record.domain
    body: dict[str, Any] = {
        "id": domain.uuid,
        "name": domain.name,
        "level": domain.level,
        "haschild": record.has_child,
        "path": paths.shown(domain.path),
        "state": domain.state,
        "created": format_date(domain.created),
    }
    if record.parent is not None:
        body["parentdomainid"] = record.parent.uuid
        body["parentdomainname"] = record.parent.name
    if domain.network_domain:
        body["networkdomain"] = domain.network_domain
    return body


def _role_fields(role: Role) -> dict[str, Any]:
    role_type = role_type_of(role)
    return {
        "accounttype": ACCOUNT_TYPES[role_type],
        "roleid": role.uuid,
        "roletype": role_type.wire_name,
        "rolename": role.name,
    }


def user_view(user: User, account: Account, domain: Domain, role: Role) -> dict[str, Any]:
    """A user as listUsers shows it. The API key is shown; the secret key never is."""
    body: dict[str, Any] = {
        "id": user.uuid,
        "username": user.username,
        "firstname": user.firstname,
        "lastname": user.lastname,
        "email": user.email,
        "created": format_date(user.created),
        "state": user.state,
        "account": account.name,
        "accountid": account.uuid,
        **_role_fields(role),
        "domainid": domain.uuid,
        "domain": domain.name,
        "domainpath": paths.shown(domain.path),
        "isdefault": user.is_default,
        "usersource": user.source,
        "is2faenabled": False,
    }
    if user.timezone:
        body["timezone"] = user.timezone
    if user.api_key:
        body["apikey"] = user.api_key
    return body


def account_view(record: AccountRecord) -> dict[str, Any]:
    account, domain, role = record.account, record.domain, record.role
    return {
        "id": account.uuid,
        "name": account.name,
        **_role_fields(role),
        "domainid": domain.uuid,
        "domain": domain.name,
        "domainpath": paths.shown(domain.path),
        "state": account.state,
        "created": format_date(account.created),
        "isdefault": account.is_default,
        "user": [user_view(user, account, domain, role) for user in record.users],
    }


def role_view(role: Role) -> dict[str, Any]:
    return {
        "id": role.uuid,
        "name": role.name,
        "type": role.role_type,
        "description": role.description,
        "isdefault": role.is_default,
        "ispublic": role.is_public,
        "state": "ENABLED",
    }


def keys_view(pair: KeyPair | None) -> dict[str, Any]:
    if pair is None:
        return {}
    return {"apikey": pair.api_key, "secretkey": pair.secret_key}
