"""Fixtures: certificates, the PAM users, and one agent process (QEMU TCG driver, file storage, no network)
serving the extension's tests of this package."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.builtin_extensions.firecracker.agenthost import AgentHost, Pki, make_pki, pam_users, template_details
from tests.builtin_extensions.firecracker.cloud import Cloud


@pytest.fixture(scope="session")
def pam() -> Iterator[None]:
    with pam_users():
        yield


@pytest.fixture(scope="package")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("fc-pki"))


@pytest.fixture(scope="package")
def agent(pam: None, pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentHost]:
    for tool in ("qemu-system-x86_64", "tmux"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is needed (scripts/ci-deps.sh installs qemu-system-x86 and tmux)")
    host = AgentHost(tmp_path_factory.mktemp("fc-agent"), pki)
    host.start()
    try:
        yield host
    finally:
        host.close()


@pytest.fixture
def cloud(agent: AgentHost) -> Cloud:
    return Cloud(host_details=agent.details(), template_details=template_details())


@pytest.fixture
def payloads(tmp_path: Path) -> Path:
    """Where the tests' payload files go (as the server's payload root)."""
    return tmp_path / "payloads"
