"""Identity commands: login, logout, domains, accounts, users, roles and API keys."""

from __future__ import annotations

from typing import TypeVar

from switchboard.api.authenticator import SESSION_COOKIE
from switchboard.api.call import Call
from switchboard.api.params import Param, ParamType
from switchboard.api.registry import api_command
from switchboard.api.responses import AsyncJobRequest, ListResponse, ObjectResponse, RawResponse, paginate
from switchboard.api.shapes import Field, Shape, T
from switchboard.api.views.identity import (
    ACCOUNT,
    DOMAIN,
    ROLE,
    USER,
    USER_KEYS,
    account_view,
    domain_view,
    keys_view,
    role_view,
    user_view,
)
from switchboard.api.views.limits import limit_fields
from switchboard.compute.limits import account_limits, domain_limits, usage_by_account, usage_by_domain
from switchboard.errors import InvalidParameter, MethodNotAllowed
from switchboard.identity import accounts, domains, grants
from switchboard.identity.jobs import DISABLE_USER_JOB
from switchboard.identity.records import ACCOUNT_TYPES, role_type_of
from switchboard.roles import ALL_ROLES, RoleType

_DOMAIN_ADMINS = frozenset({RoleType.ADMIN, RoleType.DOMAIN_ADMIN})
# Cookies login sets beside the session key (informational, for UIs); logout clears them all.
_LOGIN_COOKIES = (SESSION_COOKIE, "userid", "domainid", "account", "username")


Item = TypeVar("Item")


def _page(call: Call, items: list[Item]) -> list[Item]:
    return paginate(items, page=call.page, pagesize=call.pagesize)


# LoginCmdResponse, not wrapped in an object name.
LOGIN = Shape("login", [
    Field("username", T.STRING, "Username"),
    Field("userid", T.STRING, "User ID"),
    Field("domainid", T.STRING, "Domain ID that the user belongs to"),
    Field("timeout", T.STRING, "the time period before the session has expired"),
    Field("account", T.STRING, "the account name the user belongs to"),
    Field("firstname", T.STRING, "first name of the user"),
    Field("lastname", T.STRING, "last name of the user"),
    Field("type", T.STRING, "the account type (admin, domain-admin, read-only-admin, user)"),
    Field("registered", T.STRING, "Is user registered"),
    Field("sessionkey", T.STRING, "Session key that can be passed in subsequent Query command calls"),
    Field("is2faenabled", T.STRING, "Is two factor authentication enabled"),
    Field("is2faverified", T.STRING, "Is two factor authentication verified"),
    Field("timezone", T.STRING, "user time zone"),
])
LOGOUT = Shape("logout", [Field("description", T.STRING, "Response description")])


@api_command(
    "login",
    params=[
        Param("username", required=True, description="Username"),
        Param("password", required=True, description="Hashed password (default is MD5). If you wish to use "
              "any other hashing algorithm, you would need to write a custom authentication adapter."),
        Param("domain", description="Path of the domain that the user belongs to. Example: domain=/com/cloud/"
              "internal. If no domain is passed in, the ROOT (/) domain is assumed."),
        Param("domainId", description="The id (or UUID) of the domain that the user belongs to. If both "
              "domain and domainId are passed in, \"domainId\" parameter takes precedence."),
    ],
    roles=ALL_ROLES,
    requires_auth=False,
    response=LOGIN,
    description="Logs a user into the CloudStack. A successful login attempt will generate a JSESSIONID "
                "cookie value that can be passed in subsequent Query command calls until the \"logout\" "
                "command has been issued or the session has expired.",
)
def login(call: Call) -> RawResponse:
    if call.meta.method != "POST":  # a password in a URL ends up in logs and histories
        raise MethodNotAllowed("Please use HTTP POST to authenticate using this API")
    login_service = call.services.login
    record, token = login_service.login(
        call.session, username=call.get("username"), password=call.get("password"),
        domain_path=call.get("domain"), domain_id=call.get("domainId"), client_ip=call.meta.client_ip,
    )
    user, account, domain = record.user, record.account, record.domain
    timeout = int(login_service.session_timeout.total_seconds())
    fields = {
        "username": user.username,
        "userid": user.uuid,
        "domainid": domain.uuid,
        "timeout": str(timeout),
        "account": account.name,
        "firstname": user.firstname,
        "lastname": user.lastname,
        "type": str(ACCOUNT_TYPES[RoleType.from_wire(record.role.role_type)]),
        "registered": "false",
        "sessionkey": token,
        "is2faenabled": "false",
        "is2faverified": "true",
    }
    if user.timezone:
        fields["timezone"] = user.timezone
    call.set_cookies.update({SESSION_COOKIE: token, "userid": user.uuid, "domainid": domain.uuid,
                             "account": account.name, "username": user.username})
    return RawResponse(fields)


@api_command("logout", roles=ALL_ROLES, description="Logs out the user", response=LOGOUT)
def logout(call: Call) -> RawResponse:
    call.services.login.logout(call.session, call.who)
    call.set_cookies.update(dict.fromkeys(_LOGIN_COOKIES))
    return RawResponse({"description": "success"})


@api_command(
    "createDomain",
    params=[
        Param("name", required=True, description="Creates domain with this name"),
        Param("parentdomainid", ParamType.UUID, description="Assigns new domain a parent domain by domain ID "
              "of the parent. If no parent domain is specified, the ROOT domain is assumed."),
        Param("networkdomain", description="Network domain for networks in the domain"),
    ],
    roles=_DOMAIN_ADMINS,
    description="Creates a domain",
    response=DOMAIN,
)
def create_domain(call: Call) -> ObjectResponse:
    record = domains.create_domain(
        call.session, call.who, name=call.get("name"), parent_uuid=call.get("parentdomainid"),
        network_domain=call.get("networkdomain"),
    )
    return ObjectResponse("domain", domain_view(record))


@api_command(
    "listDomains",
    params=[
        Param("id", ParamType.UUID, description="List domain by domain ID."),
        Param("name", description="List domain by domain name."),
        Param("level", ParamType.INTEGER, description="List domains by domain level."),
        Param("details", ParamType.LIST, item_type=ParamType.STRING,
              description="comma separated list of domain details requested, value can be a list of [ all, "
              "resource, min]"),
    ],
    roles=ALL_ROLES,
    description="Lists domains and provides detailed information for listed domains",
    response=DOMAIN,
    is_list=True,
)
def list_domains(call: Call) -> ListResponse:
    records = domains.list_domains(
        call.session, call.who, uuid=call.get("id"), name=call.get("name"), level=call.get("level"),
        keyword=call.keyword,
    )
    page = _page(call, records)
    items = [domain_view(r) for r in page]
    if _with_resources(call):  # CloudStack's default details: all, which includes usage and limits
        found = [r.domain.path for r in page]
        limits, used = domain_limits(call.session, found), usage_by_domain(call.session, found)
        for item, record in zip(items, page, strict=True):
            item.update(limit_fields(limits[record.domain.path], used[record.domain.path]))
    return ListResponse("domain", items, count=len(records))


def _with_resources(call: Call) -> bool:
    """Whether `details` (all, resource, min; default all) asks for usage and limits."""
    details = {value.lower() for value in call.get("details") or ["all"]}
    return bool(details & {"all", "resource"})


@api_command(
    "listRoles",
    params=[
        Param("id", ParamType.UUID, description="List role by role ID."),
        Param("name", description="List role by role name."),
        Param("type", description="List role by role type, valid options are: Admin, ResourceAdmin, "
              "DomainAdmin, User."),
    ],
    roles=ALL_ROLES,
    description="Lists dynamic roles in CloudStack",
    response=ROLE,
    is_list=True,
)
def list_roles(call: Call) -> ListResponse:
    role_type = None
    if call.get("type"):
        try:
            role_type = RoleType.from_wire(call.get("type"))
        except ValueError as exc:
            raise InvalidParameter(str(exc), parameter="type") from None
    roles = grants.list_roles(
        call.session, call.who, uuid=call.get("id"), name=call.get("name"), role_type=role_type,
        keyword=call.keyword,
    )
    return ListResponse("role", [role_view(r) for r in _page(call, list(roles))], count=len(roles))


_NEW_USER_PARAMS = [
    Param("username", required=True, description="Unique username."),
    Param("password", required=True, description="Clear text password (Default hashed to SHA256SALT). If you "
          "wish to use any other hashing algorithm, you would need to write a custom authentication adapter."),
    Param("email", required=True, description="email"),
    Param("firstname", required=True, description="firstname"),
    Param("lastname", required=True, description="lastname"),
    Param("domainid", ParamType.UUID, description="Creates the user under the specified domain."),
    Param("timezone", description="Specifies a timezone for this command."),
]


@api_command(
    "createAccount",
    params=[
        *_NEW_USER_PARAMS,
        Param("account", description="Name of the account to be created. The user will be added to this newly "
              "created account. If no account is specified, the username will be used as the account name."),
        Param("accounttype", ParamType.INTEGER, description="Type of the account.  Specify 0 for user, 1 for "
              "root admin, and 2 for domain admin"),
        Param("roleid", ParamType.UUID, description="Creates the account under the specified role."),
    ],
    roles=_DOMAIN_ADMINS,
    description="Creates an account",
    response=ACCOUNT,
)
def create_account(call: Call) -> ObjectResponse:
    record = accounts.create_account(
        call.session, call.who, username=call.get("username"), password=call.get("password"),
        email=call.get("email"), firstname=call.get("firstname"), lastname=call.get("lastname"),
        account_name=call.get("account"), domain_uuid=call.get("domainid"), role_uuid=call.get("roleid"),
        account_type=call.get("accounttype"), timezone=call.get("timezone"),
    )
    return ObjectResponse("account", account_view(record))


@api_command(
    "listAccounts",
    params=[
        Param("id", ParamType.UUID, description="List account by account ID"),
        Param("name", description="List account by account name"),
        Param("domainid", ParamType.UUID, description="list only resources belonging to the domain specified"),
        Param("state", description="List accounts by state. Valid states are enabled, disabled, and locked."),
        Param("isrecursive", ParamType.BOOLEAN, description="defaults to false, but if true, lists all resources "
              "from the parent specified by the domainId till leaves."),
        Param("details", ParamType.LIST, item_type=ParamType.STRING,
              description="comma separated list of account details requested, value can be a list of [ all, "
              "resource, min]"),
    ],
    roles=ALL_ROLES,
    description="Lists accounts and provides detailed account information for listed accounts",
    response=ACCOUNT,
    is_list=True,
)
def list_accounts(call: Call) -> ListResponse:
    records = accounts.list_accounts(
        call.session, call.who, uuid=call.get("id"), name=call.get("name"), domain_uuid=call.get("domainid"),
        state=call.get("state"), keyword=call.keyword,
    )
    page = _page(call, records)
    items = [account_view(r) for r in page]
    if _with_resources(call):
        ids = [r.account.id for r in page]
        admins = [r.account.id for r in page if role_type_of(r.role) is RoleType.ADMIN]
        limits = account_limits(call.session, ids, root_admins=admins)
        used = usage_by_account(call.session, ids)
        for item, record in zip(items, page, strict=True):
            item.update(limit_fields(limits[record.account.id], used[record.account.id]))
    return ListResponse("account", items, count=len(records))


@api_command(
    "createUser",
    params=[
        Param("account", required=True, description="Creates the user under the specified account. If no "
              "account is specified, the username will be used as the account name."),
        *_NEW_USER_PARAMS,
    ],
    roles=_DOMAIN_ADMINS,
    description="Creates a user for an account that already exists",
    response=USER,
)
def create_user(call: Call) -> ObjectResponse:
    record = call.services.users.create_user(
        call.session, call.who, account_name=call.get("account"), username=call.get("username"),
        password=call.get("password"), email=call.get("email"), firstname=call.get("firstname"),
        lastname=call.get("lastname"), domain_uuid=call.get("domainid"), timezone=call.get("timezone"),
    )
    return ObjectResponse("user", user_view(record.user, record.account, record.domain, record.role))


@api_command(
    "listUsers",
    params=[
        Param("id", ParamType.UUID, description="List user by ID."),
        Param("username", description="List user by the username"),
        Param("account", description="list resources by account. Must be used with the domainId parameter."),
        Param("domainid", ParamType.UUID, description="list only resources belonging to the domain specified"),
        Param("state", description="List users by state of the user account."),
        Param("isrecursive", ParamType.BOOLEAN, description="defaults to false, but if true, lists all resources "
              "from the parent specified by the domainId till leaves."),
    ],
    roles=ALL_ROLES,
    description="Lists user accounts",
    response=USER,
    is_list=True,
)
def list_users(call: Call) -> ListResponse:
    records = call.services.users.list_users(
        call.session, call.who, uuid=call.get("id"), username=call.get("username"),
        account_name=call.get("account"), domain_uuid=call.get("domainid"), state=call.get("state"),
        keyword=call.keyword,
    )
    items = [user_view(r.user, r.account, r.domain, r.role) for r in _page(call, records)]
    return ListResponse("user", items, count=len(records))


@api_command(
    "updateUser",
    params=[
        Param("id", ParamType.UUID, required=True, description="User uuid"),
        Param("username", description="Unique username"),
        Param("password", description="Clear text password (default hashed to SHA256SALT). If you wish to use "
              "any other hashing algorithm, you would need to write a custom authentication adapter. Can't be "
              "passed when command is executed via integration.api.port"),
        Param("currentpassword", description="Current password that was being used by the user. You must "
              "inform the current password when updating the password.", since="4.19.0"),
        Param("email", description="email"),
        Param("firstname", description="first name"),
        Param("lastname", description="last name"),
        Param("timezone", description="Specifies a timezone for this command."),
    ],
    roles=ALL_ROLES,
    description="Updates a user account",
    response=USER,
)
def update_user(call: Call) -> ObjectResponse:
    record = call.services.users.update_user(
        call.session, call.who, call.get("id"), username=call.get("username"), password=call.get("password"),
        current_password=call.get("currentpassword"), email=call.get("email"), firstname=call.get("firstname"),
        lastname=call.get("lastname"), timezone=call.get("timezone"),
    )
    return ObjectResponse("user", user_view(record.user, record.account, record.domain, record.role))


def _user_state_command(name: str, state: str, description: str) -> None:
    @api_command(
        name,
        params=[Param("id", ParamType.UUID, required=True, description="User ID.")],
        roles=_DOMAIN_ADMINS,
        description=description,
        response=USER,
    )
    def handler(call: Call) -> ObjectResponse:
        record = call.services.users.set_user_state(call.session, call.who, call.get("id"), state)
        return ObjectResponse("user", user_view(record.user, record.account, record.domain, record.role))


_user_state_command("lockUser", "locked", "Locks a user account")
_user_state_command("enableUser", "enabled", "Enables a user account")


@api_command(
    "disableUser",
    params=[Param("id", ParamType.UUID, required=True, description="Disables user by user ID.")],
    roles=_DOMAIN_ADMINS,
    description="Disables a user account",
    response=USER,
    is_async=True,
)
def disable_user(call: Call) -> AsyncJobRequest:
    record = call.services.users.check_user_state(call.session, call.who, call.get("id"), "disabled")
    return AsyncJobRequest(DISABLE_USER_JOB, args={"user": record.user.uuid}, instance_type="User",
                           instance_id=record.user.uuid)


@api_command(
    "registerUserKeys",
    params=[Param("id", ParamType.UUID, required=True, description="User id")],
    roles=ALL_ROLES,
    description="This command allows a user to register for the developer API, returning a secret key and an "
                "API key. This request is made through the integration API port, so it is a privileged command "
                "and must be made on behalf of a user. It is up to the implementer just how the username and "
                "password are entered, and then how that translates to an integration API request. Both secret "
                "key and API key should be returned to the user",
    response=USER_KEYS,
)
def register_user_keys(call: Call) -> ObjectResponse:
    pair = call.services.keys.register_keys(call.session, call.who, call.get("id"))
    return ObjectResponse("userkeys", keys_view(pair))


@api_command(
    "getUserKeys",
    params=[Param("id", ParamType.UUID, required=True, description="ID of the user whose keys are required")],
    roles=ALL_ROLES,
    description="This command allows the user to query the seceret and API keys for the account",
    response=USER_KEYS,
    since="4.10.0",
)
def get_user_keys(call: Call) -> ObjectResponse:
    pair = call.services.keys.get_keys(call.session, call.who, call.get("id"))
    return ObjectResponse("userkeys", keys_view(pair))

