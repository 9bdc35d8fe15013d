"""Fixtures for the network tests: throw-away network namespaces named `sbt...`, and Open vSwitch."""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.eventually import eventually

_counter = itertools.count()


def need(*tools: str) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: install it (scripts/ci-deps.sh lists the apt packages)")


def sh(*argv: str) -> str:
    """Run a setup command; fail the test with its stderr if it fails."""
    p = subprocess.run(argv, capture_output=True, text=True)
    if p.returncode != 0:
        pytest.fail(f"{' '.join(argv)} failed: {p.stderr.strip()}")
    return p.stdout


def new_netns() -> str:
    need("ip")
    name = f"sbt{os.getpid() % 100000}n{next(_counter)}"
    sh("ip", "netns", "add", name)
    return name


@pytest.fixture
def netns() -> Iterator[str]:
    """A fresh network namespace with `lo` up; deleted (with everything in it) afterwards."""
    name = new_netns()
    sh("ip", "-n", name, "link", "set", "lo", "up")
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


class Ovs:
    """ovsdb-server and ovs-vswitchd (userspace `netdev` datapath) running in namespace `netns`."""

    def __init__(self, netns: str, root: Path) -> None:
        self.netns = netns
        self.root = root
        self.db = f"unix:{root}/run/db.sock"

    def vsctl(self, *args: str) -> str:
        return sh("ovs-vsctl", f"--db={self.db}", "--timeout=10", *args)

    def pids(self) -> list[int]:
        pids = []
        for name in ("ovsdb-server", "ovs-vswitchd"):
            pidfile = self.root / "run" / f"{name}.pid"
            if pidfile.exists():
                pids.append(int(pidfile.read_text().strip()))
        return pids


@pytest.fixture(scope="session")
def ovs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ovs]:
    """One OVS for the whole session, started as test-environment.md §2 describes, stopped afterwards."""
    need("ovsdb-tool", "ovsdb-server", "ovs-vswitchd", "ovs-vsctl")
    root = tmp_path_factory.mktemp("ovs")
    for sub in ("etc", "run", "log"):
        (root / sub).mkdir()
    netns = new_netns()
    sh("ip", "-n", netns, "link", "set", "lo", "up")
    o = Ovs(netns, root)
    try:
        sh("ovsdb-tool", "create", f"{root}/etc/conf.db", "/usr/share/openvswitch/vswitch.ovsschema")
        sh(
            "ip", "netns", "exec", netns, "ovsdb-server", f"{root}/etc/conf.db", f"--remote=punix:{root}/run/db.sock",
            f"--pidfile={root}/run/ovsdb-server.pid", f"--unixctl={root}/run/ovsdb-server.ctl",
            f"--log-file={root}/log/ovsdb-server.log", "--detach",
        )  # fmt: skip
        o.vsctl("--no-wait", "init")
        sh(
            "ip", "netns", "exec", netns, "ovs-vswitchd", f"unix:{root}/run/db.sock",
            f"--pidfile={root}/run/ovs-vswitchd.pid", f"--unixctl={root}/run/ovs-vswitchd.ctl",
            f"--log-file={root}/log/ovs-vswitchd.log", "--detach",
        )  # fmt: skip
        yield o
    finally:
        # Read the pid files once: the daemons remove them as they exit.
        daemons = o.pids()
        for pid in daemons:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        for pid in daemons:
            eventually(lambda pid=pid: not Path(f"/proc/{pid}").exists(), what=f"OVS daemon {pid} to exit", timeout=5)
        subprocess.run(["ip", "netns", "del", netns], check=False)
