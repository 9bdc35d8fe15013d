"""Nobody acts on an account of a more privileged role type: every identity command that touches another
account (keys, users, passwords, states) follows CloudStack's role hierarchy, over real HTTP."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from tests.support.fixtures import create_account_with_keys, cs_client
from tests.support.server import ServerProcess

pytestmark = pytest.mark.database

USER, ADMIN, DOMAIN_ADMIN, RESOURCE_ADMIN = 0, 1, 2, 3


def _error(call: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(CloudStackApiException) as failure:
        call(**kwargs)
    error: dict[str, Any] = failure.value.error
    return error


@dataclass(frozen=True)
class Cast:
    """In ROOT: a DomainAdmin (whose subtree holds the admin account) and a ResourceAdmin; a user."""

    root_dadmin: dict[str, Any]
    root_dadmin_cs: CloudStack
    radmin: dict[str, Any]
    radmin_cs: CloudStack
    user: dict[str, Any]
    admin_user_id: str


@pytest.fixture(scope="module")
def cast(api_server: ServerProcess, admin_cs: CloudStack) -> Cast:
    root_dadmin, root_dadmin_keys = create_account_with_keys(admin_cs, prefix="sbt-rd", account_type=DOMAIN_ADMIN)
    radmin, radmin_keys = create_account_with_keys(admin_cs, prefix="sbt-ra", account_type=RESOURCE_ADMIN)
    user, _ = create_account_with_keys(admin_cs, prefix="sbt-ru")
    admin_user = admin_cs.listUsers(username="admin")["user"][0]
    return Cast(root_dadmin=root_dadmin, root_dadmin_cs=cs_client(api_server, root_dadmin_keys), radmin=radmin,
                radmin_cs=cs_client(api_server, radmin_keys), user=user, admin_user_id=admin_user["id"])


def test_a_domain_admin_of_root_cannot_take_over_the_root_admin(cast: Cast, admin_cs: CloudStack) -> None:
    dadmin, target = cast.root_dadmin_cs, cast.admin_user_id
    assert target in {u["id"] for u in dadmin.listUsers(listall=True)["user"]}  # in its subtree, visible
    attempts: list[tuple[Callable[..., Any], dict[str, Any]]] = [
        (dadmin.getUserKeys, {"id": target}),
        (dadmin.registerUserKeys, {"id": target}),
        (dadmin.updateUser, {"id": target, "password": "Taken-over-1234"}),
        (dadmin.updateUser, {"id": target, "email": "owned@example.com"}),
        (dadmin.lockUser, {"id": target}),
        (dadmin.enableUser, {"id": target}),
        (dadmin.createUser, {"account": "admin", "username": "sbt-backdoor", "password": "Backdoor-pw-1",
                             "email": "b@example.com", "firstname": "b", "lastname": "d"}),
    ]
    for call, kwargs in attempts:
        error = _error(call, **kwargs)
        assert error["errorcode"] == 531, (call, error)
        assert "cannot perform this operation for user account [admin, " in error["errortext"]
    with pytest.raises(CloudStackApiException) as refused:  # async: refused before any job is queued
        dadmin.disableUser(id=target, fetch_result=True)
    assert refused.value.error["errorcode"] == 531
    admin = admin_cs.listUsers(id=target)["user"][0]
    assert admin["state"] == "enabled" and admin["email"] != "owned@example.com"
    assert admin_cs.listUsers(username="sbt-backdoor") == {}
    assert admin_cs.listApis(name="listZones")  # the admin's keys still work: nothing was replaced


def test_resource_and_domain_admins_cannot_act_on_each_other(cast: Cast) -> None:
    radmin_user = cast.radmin["user"][0]["id"]
    dadmin_user = cast.root_dadmin["user"][0]["id"]
    for call, target, kind in ((cast.radmin_cs.getUserKeys, dadmin_user, cast.root_dadmin),
                               (cast.radmin_cs.updateUser, dadmin_user, cast.root_dadmin),
                               (cast.root_dadmin_cs.getUserKeys, radmin_user, cast.radmin),
                               (cast.root_dadmin_cs.registerUserKeys, radmin_user, cast.radmin)):
        error = _error(call, id=target)
        assert error["errorcode"] == 531
        assert error["errortext"].endswith(f"has a lower role type than the user account [{kind['name']}, "
                                           f"{kind['id']}]")


def test_admins_still_manage_the_types_below_them(cast: Cast, admin_cs: CloudStack) -> None:
    user_id = cast.user["user"][0]["id"]
    assert cast.root_dadmin_cs.getUserKeys(id=user_id)["userkeys"]["apikey"]
    assert cast.radmin_cs.updateUser(id=user_id, firstname="Renamed")["user"]["firstname"] == "Renamed"
    other_dadmin, _ = create_account_with_keys(admin_cs, prefix="sbt-rd2", account_type=DOMAIN_ADMIN)
    # the same role type in another account: allowed, as CloudStack's default
    # role.types.allowed.for.operations.on.accounts.of.same.role.type has it
    assert cast.root_dadmin_cs.lockUser(id=other_dadmin["user"][0]["id"])["user"]["state"] == "locked"
    # and the root admin acts on anyone
    assert admin_cs.getUserKeys(id=cast.root_dadmin["user"][0]["id"])["userkeys"]["apikey"]


def test_root_admin_accounts_live_in_root_only(admin_cs: CloudStack) -> None:
    domain = admin_cs.createDomain(name="sbt-no-admins")["domain"]
    common = {"username": "sbt-sub-admin", "password": "Sub-admin-pw-1", "email": "s@example.com",
              "firstname": "s", "lastname": "a"}
    error = _error(admin_cs.createAccount, accounttype=ADMIN, domainid=domain["id"], **common)
    assert error["errorcode"] == 431
    assert "unable to create user of admin role type in non-ROOT domain" in error["errortext"]
    assert admin_cs.listAccounts(name="sbt-sub-admin", listall=True) == {}
