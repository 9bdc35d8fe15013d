"""A key revoked, regenerated or disabled through one server is refused by another server on the same
database from the very next request, however long that server would otherwise cache verified keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cs import CloudStack

from tests.support.fixtures import (
    ADMIN_PASSWORD,
    api_keys_of,
    create_account_with_keys,
    cs_client,
    signed_get,
    start_server,
)
from tests.support.server import ServerProcess

pytestmark = pytest.mark.database

LONG_CACHE = {"SWITCHBOARD_KEY_CACHE_TTL": "3600", "SWITCHBOARD_ADMIN_PASSWORD": ADMIN_PASSWORD}


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    base: Path = tmp_path_factory.mktemp("revocation")
    shared_key = base / "secret.key"
    with start_server(base / "first", env={**LONG_CACHE, "SWITCHBOARD_KEY_FILE": str(shared_key)}) as first:
        second = ServerProcess(data_dir=base / "second" / "data", database_url=first.database_url,
                               env={**LONG_CACHE, "SWITCHBOARD_KEY_FILE": str(shared_key),
                                    "SWITCHBOARD_SERVER_NAME": "second"})
        second.start()
        try:
            yield first, second
        finally:
            second.stop()


def _status(server: ServerProcess, keys: dict[str, str]) -> int:
    return signed_get(server, {"command": "listZones"}, keys).status_code


@pytest.fixture
def admin_on_first(two_servers: tuple[ServerProcess, ServerProcess]) -> CloudStack:
    first, _second = two_servers
    return cs_client(first, api_keys_of(first))


def test_new_keys_made_on_one_server_retire_the_old_ones_on_the_other(
        two_servers: tuple[ServerProcess, ServerProcess], admin_on_first: CloudStack) -> None:
    _first, second = two_servers
    account, old = create_account_with_keys(admin_on_first)
    assert _status(second, old) == 200  # verified, and now cached by the second server
    assert _status(second, old) == 200
    new = admin_on_first.registerUserKeys(id=account["user"][0]["id"])["userkeys"]
    assert _status(second, old) == 401
    assert _status(second, {"apikey": new["apikey"], "secretkey": new["secretkey"]}) == 200


def test_a_user_disabled_on_one_server_is_refused_by_the_other_until_enabled(
        two_servers: tuple[ServerProcess, ServerProcess], admin_on_first: CloudStack) -> None:
    _first, second = two_servers
    account, keys = create_account_with_keys(admin_on_first)
    user_id = account["user"][0]["id"]
    assert _status(second, keys) == 200
    admin_on_first.disableUser(id=user_id, fetch_result=True)
    assert _status(second, keys) == 401
    admin_on_first.enableUser(id=user_id)
    assert _status(second, keys) == 200


def test_api_key_access_turned_off_on_one_server_is_honoured_by_the_other(
        two_servers: tuple[ServerProcess, ServerProcess], admin_on_first: CloudStack) -> None:
    _first, second = two_servers
    account, keys = create_account_with_keys(admin_on_first)
    assert _status(second, keys) == 200
    admin_on_first.updateConfiguration(name="api.key.access", value="false", accountid=account["id"])
    assert _status(second, keys) == 401
    admin_on_first.updateConfiguration(name="api.key.access", value="true", accountid=account["id"])
    assert _status(second, keys) == 200
