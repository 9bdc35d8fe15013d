"""CloudStack response objects for identity: domain, account, user, role, userkeys, login."""

from __future__ import annotations

from typing import Any

from switchboard.api.params import format_date
from switchboard.api.shapes import Field, Shape, T
from switchboard.api.views.limits import LIMIT_FIELDS
from switchboard.db.models.identity import Account, Domain, Role, User
from switchboard.identity import paths
from switchboard.identity.records import (
    ACCOUNT_TYPES,
    AccountRecord,
    DomainRecord,
    KeyPair,
    UserRecord,
    role_type_of,
)

DOMAIN = Shape("domain", [
    Field("id", T.STRING, "the ID of the domain"),
    Field("name", T.STRING, "the name of the domain"),
    Field("level", T.INTEGER, "the level of the domain"),
    Field("haschild", T.BOOLEAN, "whether the domain has one or more sub-domains"),
    Field("path", T.STRING, "the path of the domain"),
    Field("state", T.STRING, "the state of the domain"),
    Field("created", T.DATE, "the date when this domain was created"),
    Field("parentdomainid", T.STRING, "the domain ID of the parent domain"),
    Field("parentdomainname", T.STRING, "the domain name of the parent domain"),
    Field("networkdomain", T.STRING, "the network domain"),
    *LIMIT_FIELDS,  # listDomains with details all/resource
])


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


_ROLE_FIELDS = (
    Field("accounttype", T.INTEGER, "account type (admin, domain-admin, user)"),
    Field("roleid", T.STRING, "the ID of the role"),
    Field("roletype", T.STRING, "the type of the role (Admin, ResourceAdmin, DomainAdmin, User)"),
    Field("rolename", T.STRING, "the name of the role"),
)


def _role_fields(role: Role) -> dict[str, Any]:
    role_type = role_type_of(role)
    return {
        "accounttype": ACCOUNT_TYPES[role_type],
        "roleid": role.uuid,
        "roletype": role_type.wire_name,
        "rolename": role.name,
    }


USER = Shape("user", [
    Field("id", T.STRING, "the user ID"),
    Field("username", T.STRING, "the user name"),
    Field("firstname", T.STRING, "the user firstname"),
    Field("lastname", T.STRING, "the user lastname"),
    Field("email", T.STRING, "the user email address"),
    Field("created", T.DATE, "the date and time the user account was created"),
    Field("state", T.STRING, "the user state"),
    Field("account", T.STRING, "the account name of the user"),
    Field("accountid", T.STRING, "the account ID of the user"),
    *_ROLE_FIELDS,
    Field("domainid", T.STRING, "the domain ID of the user"),
    Field("domain", T.STRING, "the domain name of the user"),
    Field("domainpath", T.STRING, "path of the domain the user belongs to"),
    Field("isdefault", T.BOOLEAN, "true if user is default, false otherwise"),
    Field("usersource", T.STRING, "the source type of the user in lowercase, such as native, ldap, saml2"),
    Field("is2faenabled", T.BOOLEAN, "true if user has two factor authentication enabled"),
    Field("timezone", T.STRING, "the timezone user was created in"),
    Field("apikey", T.STRING, "the api key of the user"),
])


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


def user_record_view(record: UserRecord) -> dict[str, Any]:
    """`user_view` of a user record (the disableUser job's result)."""
    return user_view(record.user, record.account, record.domain, record.role)


ACCOUNT = Shape("account", [
    Field("id", T.STRING, "the id of the account"),
    Field("name", T.STRING, "the name of the account"),
    *_ROLE_FIELDS,
    Field("domainid", T.STRING, "id of the Domain the account belongs to"),
    Field("domain", T.STRING, "name of the Domain the account belongs to"),
    Field("domainpath", T.STRING, "path of the Domain the account belongs to"),
    Field("state", T.STRING, "the state of the account"),
    Field("created", T.DATE, "the date when this account was created"),
    Field("isdefault", T.BOOLEAN, "true if account is default, false otherwise"),
    Field("user", T.LIST, "the list of users associated with account", shape=USER),
    *LIMIT_FIELDS,  # listAccounts with details all/resource
])


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


ROLE = Shape("role", [
    Field("id", T.STRING, "the ID of the role"),
    Field("name", T.STRING, "the name of the role"),
    Field("type", T.STRING, "the type of the role"),
    Field("description", T.STRING, "the description of the role"),
    Field("isdefault", T.BOOLEAN, "true if role is default, false otherwise"),
    Field("ispublic", T.BOOLEAN, "Indicates whether the role will be visible to all users (public) or only to "
          "root admins (private)."),
    Field("state", T.STRING, "the state of the role"),
])


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


USER_KEYS = Shape("userkeys", [
    Field("apikey", T.STRING, "the api key of the registered user"),
    Field("secretkey", T.STRING, "the secret key of the registered user"),
])


def keys_view(pair: KeyPair | None) -> dict[str, Any]:
    if pair is None:
        return {}
    return {"apikey": pair.api_key, "secretkey": pair.secret_key}
