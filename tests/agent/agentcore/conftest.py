"""Fixtures for the agent core tests: certificates (once per session), fakes, and a served agent."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from guest import guest_artifacts

from agentcore import pamusers
from agentcore.fakes import FakeNetwork, FakeStorage, FakeVmm
from agentcore.harness import Pki, agent_config, make_pki, serve
from switchboard.agent.api import AgentContext
from switchboard.agent.config import AgentConfig
from switchboard.agent.server import build_agent

USERS = {"admin": ("pw", {"sbtadm"}), "reader": ("pw", {"sbtro"}), "nobody": ("pw", set())}


def fake_password_check(user: str, password: str, service: str) -> bool:
    return user in USERS and USERS[user][0] == password


def fake_groups(user: str) -> set[str]:
    return USERS.get(user, ("", set()))[1]


@pytest.fixture(scope="session")
def pam_users() -> Iterator[None]:
    """Local admin, read-only and group-less users (see pamusers.py) and the PAM service file."""
    with pamusers.pam_users():
        yield


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """kernel/ and images/ holding the built test guest (`vmlinux`, `guest.ext4`), for real VMMs."""
    if shutil.which("qemu-system-x86_64") is None or shutil.which("tmux") is None:
        pytest.fail("qemu-system-x86 and tmux are needed (scripts/ci-deps.sh installs them)")
    guest = guest_artifacts()
    root = tmp_path_factory.mktemp("templates")
    (root / "kernel").mkdir()
    (root / "images").mkdir()
    shutil.copyfile(guest.kernel, root / "kernel" / "vmlinux")
    subprocess.run(["cp", "--sparse=always", str(guest.rootfs), str(root / "images" / "guest.ext4")], check=True)
    return root


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@dataclass
class Host:
    """One simulated host: fakes that outlive agent processes, and a way to start agents on it."""

    root: Path
    pki: Pki
    vmm: FakeVmm
    storage: FakeStorage
    network: FakeNetwork
    config: AgentConfig
    boot_id: str = "boot-1"

    def agent(self) -> AgentContext:
        return build_agent(
            self.config,
            backends=(self.vmm, self.storage, self.network),
            boot_id=self.boot_id,
            password_check=fake_password_check,
            group_lookup=fake_groups,
        )


@pytest.fixture
def host(tmp_path: Path, pki: Pki) -> Host:
    return Host(
        root=tmp_path,
        pki=pki,
        vmm=FakeVmm(),
        storage=FakeStorage(tmp_path / "volumes"),
        network=FakeNetwork(),
        config=agent_config(tmp_path, pki),
    )


@pytest.fixture
def served(host: Host) -> Iterator[tuple[AgentContext, str]]:
    agent = host.agent()
    with serve(agent) as url:
        yield agent, url
