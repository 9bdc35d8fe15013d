"""Accounts, users, domains and roles over real HTTP, and who may see or do what."""

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
class Tree:
    a: dict[str, Any]
    a1: dict[str, Any]
    b: dict[str, Any]
    dadmin: dict[str, Any]
    user_a1: dict[str, Any]
    user_b: dict[str, Any]
    dadmin_cs: CloudStack
    user_a1_cs: CloudStack
    user_b_cs: CloudStack


@pytest.fixture(scope="module")
def tree(api_server: ServerProcess, admin_cs: CloudStack) -> Tree:
    """ROOT ─ sbt-a ─ sbt-a1 and ROOT ─ sbt-b, a domain admin in sbt-a, users in sbt-a1 and sbt-b."""
    a = admin_cs.createDomain(name="sbt-a")["domain"]
    a1 = admin_cs.createDomain(name="sbt-a1", parentdomainid=a["id"])["domain"]
    b = admin_cs.createDomain(name="sbt-b")["domain"]
    dadmin, dadmin_keys = create_account_with_keys(admin_cs, account_type=DOMAIN_ADMIN, domain_id=a["id"])
    user_a1, user_a1_keys = create_account_with_keys(admin_cs, domain_id=a1["id"])
    user_b, user_b_keys = create_account_with_keys(admin_cs, domain_id=b["id"])
    return Tree(a=a, a1=a1, b=b, dadmin=dadmin, user_a1=user_a1, user_b=user_b,
                dadmin_cs=cs_client(api_server, dadmin_keys), user_a1_cs=cs_client(api_server, user_a1_keys),
                user_b_cs=cs_client(api_server, user_b_keys))


def test_domains_show_their_tree(tree: Tree, admin_cs: CloudStack) -> None:
    a1 = admin_cs.listDomains(id=tree.a1["id"])["domain"][0]
    assert a1["path"] == "ROOT/sbt-a/sbt-a1" and a1["level"] == 2
    assert a1["parentdomainname"] == "sbt-a" and a1["haschild"] is False
    a = admin_cs.listDomains(id=tree.a["id"])["domain"][0]
    assert a["haschild"] is True


def test_a_domain_admin_sees_its_subtree_only(tree: Tree) -> None:
    dadmin = tree.dadmin_cs
    domains = {d["name"] for d in dadmin.listDomains()["domain"]}
    assert domains == {"sbt-a", "sbt-a1"}
    accounts = {a["id"] for a in dadmin.listAccounts()["account"]}
    assert accounts == {tree.dadmin["id"], tree.user_a1["id"]}
    users = {u["account"] for u in dadmin.listUsers()["user"]}
    assert tree.user_b["name"] not in users
    assert dadmin.listUsers(domainid=tree.a1["id"])["user"][0]["account"] == tree.user_a1["name"]
    error = _error(dadmin.listUsers, domainid=tree.b["id"])
    assert error["errorcode"] == 431


def test_a_user_sees_its_own_account_user_and_domain(tree: Tree) -> None:
    user = tree.user_a1_cs
    assert [a["id"] for a in user.listAccounts()["account"]] == [tree.user_a1["id"]]
    assert [u["account"] for u in user.listUsers()["user"]] == [tree.user_a1["name"]]
    assert [d["name"] for d in user.listDomains()["domain"]] == ["sbt-a1"]
    assert {r["type"] for r in user.listRoles()["role"]} == {"User"}


def test_wrong_role_gets_the_command_hidden(tree: Tree, admin_cs: CloudStack,
                                            api_server: ServerProcess) -> None:
    user = tree.user_a1_cs
    attempts: list[tuple[Callable[..., Any], dict[str, Any]]] = [(user.createDomain, {"name": "sbt-x"}),
                         (user.createAccount, {"username": "x", "password": "x", "email": "x", "firstname": "x",
                                               "lastname": "x", "accounttype": 0}),
                         (user.lockUser, {"id": tree.user_b["user"][0]["id"]})]
    for call, kwargs in attempts:
        error = _error(call, **kwargs)
        assert error["errorcode"] == 432
        assert "does not exist or it is not available for user" in str(error["errortext"])
    _, resource_keys = create_account_with_keys(admin_cs, account_type=RESOURCE_ADMIN)
    assert _error(cs_client(api_server, resource_keys).createDomain, name="sbt-y")["errorcode"] == 432


def test_a_domain_admin_cannot_reach_outside_or_above(tree: Tree) -> None:
    dadmin = tree.dadmin_cs
    common = {"username": "sbt-z", "password": "Sbt-z-password-1", "email": "z@x", "firstname": "z", "lastname": "z"}
    outside = _error(dadmin.createAccount, accounttype=USER, domainid=tree.b["id"], **common)
    assert outside["errorcode"] == 431
    above = _error(dadmin.createAccount, accounttype=ADMIN, domainid=tree.a1["id"], **common)
    assert above["errorcode"] == 531
    made = dadmin.createAccount(accounttype=USER, domainid=tree.a1["id"], **common)["account"]
    assert made["domainpath"] == "ROOT/sbt-a/sbt-a1" and made["roletype"] == "User"
    foreign_user = tree.user_b["user"][0]["id"]
    assert _error(dadmin.getUserKeys, id=foreign_user)["errorcode"] == 531


def test_a_user_manages_only_its_own_keys(tree: Tree) -> None:
    user = tree.user_b_cs
    own = tree.user_b["user"][0]["id"]
    assert user.getUserKeys(id=own)["userkeys"]["apikey"]
    assert _error(user.getUserKeys, id=tree.user_a1["user"][0]["id"])["errorcode"] == 531


def test_create_user_in_an_existing_account_and_duplicates_are_refused(admin_cs: CloudStack) -> None:
    account, _ = create_account_with_keys(admin_cs)
    user = admin_cs.createUser(account=account["name"], username=f"{account['name']}-2", password="Second-user-pw-2",
                               email="u2@x", firstname="U", lastname="Two")["user"]
    assert user["accountid"] == account["id"] and user["roletype"] == "User" and "secretkey" not in user
    listed = admin_cs.listAccounts(id=account["id"])["account"][0]
    assert sorted(u["username"] for u in listed["user"]) == sorted([account["name"], f"{account['name']}-2"])
    dup = _error(admin_cs.createUser, account=account["name"], username=account["name"], password="Dup-user-pw-1",
                 email="e", firstname="f", lastname="l")
    assert dup["errorcode"] == 431 and "already exists" in str(dup["errortext"])


def test_paging_and_keyword(admin_cs: CloudStack) -> None:
    for _ in range(3):
        create_account_with_keys(admin_cs, prefix="sbt-page")
    everything = admin_cs.listAccounts(keyword="sbt-page")
    assert everything["count"] == 3
    first = admin_cs.listAccounts(keyword="sbt-page", page=1, pagesize=2)
    second = admin_cs.listAccounts(keyword="sbt-page", page=2, pagesize=2)
    assert first["count"] == 3 and len(first["account"]) == 2 and len(second["account"]) == 1
    ids = [a["id"] for a in first["account"] + second["account"]]
    assert ids == [a["id"] for a in everything["account"]]  # newest first, stable across pages
    assert admin_cs.listAccounts(keyword="sbt-no-such-thing") == {}
    # cs's own paging (page=1,2,... with pagesize=500 until a short page) gets the plain list
    fetched = admin_cs.listAccounts(keyword="sbt-page", fetch_list=True)
    assert [a["id"] for a in fetched] == ids


def test_a_refused_create_account_leaves_nothing_behind(admin_cs: CloudStack) -> None:
    existing, _ = create_account_with_keys(admin_cs)
    taken = existing["user"][0]["username"]
    error = _error(admin_cs.createAccount, username=taken, account="sbt-orphan-check", password="Orphan-pw-1",
                   email="e", firstname="f", lastname="l", accounttype=USER)
    assert error["errorcode"] == 431
    assert admin_cs.listAccounts(name="sbt-orphan-check") == {}


def test_keyword_wildcards_are_literal(admin_cs: CloudStack) -> None:
    create_account_with_keys(admin_cs, prefix="sbt-kw")
    assert admin_cs.listAccounts(keyword="SBT-KW")["count"] >= 1  # case-insensitive
    assert admin_cs.listAccounts(keyword="sbt%kw") == {}
    assert admin_cs.listAccounts(keyword="sbt_kw") == {}
