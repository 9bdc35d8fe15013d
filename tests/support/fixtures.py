"""Shared fixtures: a running management server, its admin API keys and a `cs` client (pytest plugin).

    def test_something(admin_cs):           # an unmodified `cs.CloudStack` signed with the admin's keys
        admin_cs.listZones()

    def test_other(api_server, admin_keys):  # the ServerProcess and {"apikey": ..., "secretkey": ...}
        ...

The server is started once per test session, on a SQLite file, or on a fresh PostgreSQL database when
SWITCHBOARD_TEST_DATABASE_URL is set (as the `database_url` fixture does). Tests that need a server of
their own (special environment, kill/restart) use `start_server(...)` and stop it themselves; two servers
that must share API keys must share the data directory (the key file) as well as the database.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from cs import CloudStack
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from switchboard.api.signing import compute_signature
from tests.support.server import ServerProcess

PG_URL = os.environ.get("SWITCHBOARD_TEST_DATABASE_URL")
# The admin password of the shared `api_server` (set through SWITCHBOARD_ADMIN_PASSWORD at first start).
ADMIN_PASSWORD = "sbt-admin-password"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `postgresql` test what only PostgreSQL does (LISTEN/NOTIFY, say): without a PostgreSQL
    server they are deselected, so that the SQLite pass neither runs nor skips them; the PostgreSQL pass
    (scripts/test.sh) runs them."""
    if PG_URL:
        return
    kept = [item for item in items if item.get_closest_marker("postgresql") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept


@contextmanager
def fresh_database(directory: Path, *, template: str | None = None) -> Iterator[str]:
    """A fresh database URL: a SQLite file in `directory`, or a new PostgreSQL database (dropped after).

    With `template` (the URL of another database made here, no longer in use) it starts as a copy of that
    one: a file copy, or PostgreSQL's CREATE DATABASE ... TEMPLATE."""
    if not PG_URL:
        path = directory / "switchboard.db"
        if template is not None:
            shutil.copyfile(make_url(template).database or "", path)
        yield f"sqlite:///{path}"
        return
    name = f"sbtest_{uuid.uuid4().hex[:12]}"
    copy_of = f' TEMPLATE "{make_url(template).database}"' if template is not None else ""
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{copy_of}'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a new PostgreSQL database when configured."""
    with fresh_database(tmp_path) as url:
        yield url


@contextmanager
def start_server(directory: Path, *, env: dict[str, str] | None = None,
                 database_url: str | None = None) -> Iterator[ServerProcess]:
    """Run a server with its own data dir (and fresh database unless given) for the `with` block."""
    with fresh_database(directory) if database_url is None else _given(database_url) as url:
        server = ServerProcess(data_dir=directory / "data", database_url=url, env=env or {})
        server.start()
        try:
            yield server
        finally:
            server.stop()


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url


def api_keys_of(server: ServerProcess, username: str = "admin") -> dict[str, str]:
    """`switchboard admin api-keys` against the server's database: {"apikey": ..., "secretkey": ...}."""
    result = server.cli("admin", "api-keys", "--username", username)
    keys: dict[str, str] = json.loads(result.stdout)
    return keys


def cs_client(server: ServerProcess, keys: dict[str, str], **kwargs: Any) -> CloudStack:
    """An unmodified `cs` client for `server` signed with `keys` (signature version 3 by default)."""
    return CloudStack(endpoint=server.url, key=keys["apikey"], secret=keys["secretkey"], **kwargs)


def signed_params(params: dict[str, str], keys: dict[str, str]) -> dict[str, str]:
    """`params` plus `apiKey` and a §7.1 signature, for hand-built requests."""
    request = {**params, "apiKey": keys["apikey"]}
    request["signature"] = compute_signature(request, keys["secretkey"])
    return request


def signed_get(server: ServerProcess, params: dict[str, str], keys: dict[str, str]) -> httpx.Response:
    return httpx.get(server.url, params=signed_params({"response": "json", **params}, keys), timeout=30)


@pytest.fixture(scope="session")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One management server for the whole test session (admin password: see ADMIN_PASSWORD)."""
    with start_server(tmp_path_factory.mktemp("api-server"), env={"SWITCHBOARD_ADMIN_PASSWORD": ADMIN_PASSWORD}) \
            as server:
        yield server


@pytest.fixture(scope="session")
def admin_keys(api_server: ServerProcess) -> dict[str, str]:
    return api_keys_of(api_server)


@pytest.fixture(scope="session")
def admin_cs(api_server: ServerProcess, admin_keys: dict[str, str]) -> CloudStack:
    return cs_client(api_server, admin_keys)


def create_account_with_keys(admin: CloudStack, *, prefix: str = "sbt", account_type: int = 0,
                             domain_id: str | None = None, password: str | None = None) -> tuple[dict[str, Any],
                                                                                                  dict[str, str]]:
    """Create an account (0 User, 1 Admin, 2 DomainAdmin, 3 ResourceAdmin) with one user and register its
    API keys. Returns (the account as createAccount answered, {"apikey", "secretkey"})."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    account = admin.createAccount(
        username=name, password=password or f"pw-{uuid.uuid4().hex}", email=f"{name}@example.com",
        firstname="Test", lastname=name, accounttype=account_type, domainid=domain_id,
    )["account"]
    keys = admin.registerUserKeys(id=account["user"][0]["id"])["userkeys"]
    return account, {"apikey": keys["apikey"], "secretkey": keys["secretkey"]}
