"""Shared pieces for the infrastructure HTTP tests: a zone with a pod, and a User-role client."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from tests.support.fixtures import create_account_with_keys, cs_client
from tests.support.server import ServerProcess


def unique(prefix: str) -> str:
    """Names are unique per test: the server is shared by the whole session."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def api_error(call: Any, **params: Any) -> dict[str, Any]:
    """Call and expect CloudStack's error envelope; return its body (errorcode, errortext, ...)."""
    with pytest.raises(CloudStackApiException) as raised:
        call(**params)
    error: dict[str, Any] = raised.value.error
    return error


# Async commands (deleteNetwork, deleteTemplate, maintenance) are awaited with fetch_result: poll often.
POLL_INTERVAL = 0.2


@pytest.fixture(scope="session")
def admin_cs(api_server: ServerProcess, admin_keys: dict[str, str]) -> CloudStack:
    """The shared admin client, polling async jobs every POLL_INTERVAL seconds."""
    return cs_client(api_server, admin_keys, poll_interval=POLL_INTERVAL)


@pytest.fixture
def zone(admin_cs: CloudStack) -> dict[str, Any]:
    created: dict[str, Any] = admin_cs.createZone(name=unique("zone"), networktype="Advanced", dns1="8.8.8.8",
                                                  internaldns1="10.0.0.2")["zone"]
    return created


@pytest.fixture
def pod(admin_cs: CloudStack, zone: dict[str, Any]) -> dict[str, Any]:
    created: dict[str, Any] = admin_cs.createPod(zoneid=zone["id"], name=unique("pod"), gateway="10.0.0.1",
                                                 netmask="255.255.255.0", startip="10.0.0.10",
                                                 endip="10.0.0.20")["pod"]
    return created


@pytest.fixture(scope="module")
def user_client(api_server: ServerProcess, admin_cs: CloudStack) -> tuple[CloudStack, dict[str, Any]]:
    """A User-role account's client, and the account."""
    account, keys = create_account_with_keys(admin_cs, prefix="sbt-infra")
    return cs_client(api_server, keys, poll_interval=POLL_INTERVAL), account


@pytest.fixture
def extension(admin_cs: CloudStack) -> dict[str, Any]:
    """A user-defined Orchestrator extension (its scaffold entry point is created by the server)."""
    created: dict[str, Any] = admin_cs.createExtension(name=unique("ext"), type="Orchestrator")["extension"]
    return created
