"""A Firecracker host for the extension's tests: the real agent process (HTTPS, mTLS with an allow-list,
PAM Basic auth) with the test guest as its template, optionally inside a network namespace of its own that
the management side reaches over a veth pair (then with Open vSwitch as the agent's network backend, so
guests get real TAPs), and helpers to look at what is left on it."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from switchboard.agent.pki import init_tls
from tests.agent.agentcore import pamusers
from tests.agent.fcstandin import FIRECRACKER
from tests.agent.guest import fresh_rootfs, guest_artifacts

BOOT_TIMEOUT = 180.0
MARKER = "SWITCHBOARD-GUEST-BOOTED"
KERNEL, INITRD, IMAGE = "vmlinux", "initrd.img", "guest.ext4"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sh(*argv: str) -> str:
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {result.stderr.strip()}")
    return result.stdout


@dataclass(frozen=True)
class Pki:
    """`init_tls` output: the agent's TLS directory (CA certificate, server certificate with SANs localhost,
    127.0.0.1 and `address`), the CA directory beside it holding clients `mgmt` (on the agent's allow-list)
    and `other` (signed by the CA, not allowed), and a rogue CA with its own `mgmt` client."""

    directory: Path
    rogue: Path

    @staticmethod
    def ca_dir_of(directory: Path) -> Path:
        return directory.with_name(directory.name + "-ca")

    @property
    def ca(self) -> Path:
        return self.directory / "ca.crt"

    def client(self, name: str = "mgmt") -> tuple[Path, Path]:
        clients = self.ca_dir_of(self.directory)
        return clients / f"client-{name}.crt", clients / f"client-{name}.key"

    def rogue_client(self) -> tuple[Path, Path]:
        clients = self.ca_dir_of(self.rogue)
        return clients / "client-mgmt.crt", clients / "client-mgmt.key"

    def fingerprint(self, name: str) -> str:
        cert = x509.load_pem_x509_certificate(self.client(name)[0].read_bytes())
        return "sha256:" + cert.fingerprint(hashes.SHA256()).hex()


def make_pki(root: Path, address: str | None = None) -> Pki:
    addresses = ["127.0.0.1", *([address] if address else [])]
    for directory, clients, organisation in ((root / "pki", ["mgmt", "other"], "Switchboard"),
                                             (root / "rogue", ["mgmt"], "Rogue")):
        init_tls(directory, ca_dir=Pki.ca_dir_of(directory), hostnames=["localhost"], addresses=addresses,
                 clients=clients, organisation=organisation)
    return Pki(root / "pki", root / "rogue")


@contextlib.contextmanager
def pam_users() -> Iterator[None]:
    """The agent tests' PAM users (admin, read-only, group-less; password `pamusers.PASSWORD`), made here
    unless another fixture of this session already made them (then that one removes them)."""
    try:
        import pwd

        pwd.getpwnam(pamusers.ADMIN)
        exists = (Path("/etc/pam.d") / pamusers.PAM_SERVICE).exists()
    except KeyError:
        exists = False
    if exists:
        yield
        return
    with pamusers.pam_users():
        yield


def templates(root: Path) -> Path:
    """kernel/ and images/ holding the test guest: `vmlinux`, `initrd.img` and `guest.ext4`."""
    guest = guest_artifacts()
    (root / "kernel").mkdir(parents=True, exist_ok=True)
    for source, name in ((guest.kernel, KERNEL), (guest.initrd, INITRD)):
        (root / "kernel" / name).write_bytes(Path(source).read_bytes())
    fresh_rootfs(root / "images" / IMAGE)
    return root


def template_details() -> dict[str, str]:
    """The template's details as an operator registers them (externaldetails of registerTemplate)."""
    return {"kernel": KERNEL, "initrd": INITRD, "image": IMAGE, "boot_args": guest_artifacts().boot_args}


@dataclass
class Netns:
    """A network namespace joined to this one by a veth pair: the host side is `outside`, the agent's
    side `inside`, with Open vSwitch (userspace datapath) running in it."""

    name: str
    outside: str
    inside: str
    root: Path
    pids: list[int] = field(default_factory=list)

    @property
    def ovs_db(self) -> str:
        return f"unix:{self.root}/ovs/db.sock"

    def vsctl(self, *args: str) -> str:
        return sh("ovs-vsctl", f"--db={self.ovs_db}", "--timeout=10", *args)

    def links(self) -> list[str]:
        out = sh("ip", "-n", self.name, "-o", "link", "show")
        return [line.split(":")[1].strip().split("@")[0] for line in out.splitlines()]


@contextlib.contextmanager
def netns_with_ovs(root: Path) -> Iterator[Netns]:
    for tool in ("ip", "ovsdb-tool", "ovsdb-server", "ovs-vswitchd", "ovs-vsctl"):
        if subprocess.run(["which", tool], capture_output=True).returncode != 0:
            raise AssertionError(f"{tool} is missing: run scripts/ci-deps.sh (iproute2, openvswitch-switch)")
    tag = os.getpid() % 100000
    subnet = f"10.213.{tag % 250}"
    ns = Netns(f"sbt{tag}fc", f"sbt{tag}o", f"{subnet}.2", root)
    ovs = root / "ovs"
    ovs.mkdir(parents=True)
    sh("ip", "netns", "add", ns.name)
    try:
        sh("ip", "link", "add", ns.outside, "type", "veth", "peer", "name", "eth0", "netns", ns.name)
        sh("ip", "addr", "add", f"{subnet}.1/30", "dev", ns.outside)
        sh("ip", "link", "set", ns.outside, "up")
        sh("ip", "-n", ns.name, "addr", "add", f"{subnet}.2/30", "dev", "eth0")
        sh("ip", "-n", ns.name, "link", "set", "eth0", "up")
        sh("ip", "-n", ns.name, "link", "set", "lo", "up")
        sh("ovsdb-tool", "create", f"{ovs}/conf.db", "/usr/share/openvswitch/vswitch.ovsschema")
        sh("ip", "netns", "exec", ns.name, "ovsdb-server", f"{ovs}/conf.db", f"--remote=punix:{ovs}/db.sock",
           f"--pidfile={ovs}/ovsdb-server.pid", f"--unixctl={ovs}/ovsdb-server.ctl",
           f"--log-file={ovs}/ovsdb-server.log", "--detach")
        ns.vsctl("--no-wait", "init")
        sh("ip", "netns", "exec", ns.name, "ovs-vswitchd", ns.ovs_db, f"--pidfile={ovs}/ovs-vswitchd.pid",
           f"--unixctl={ovs}/ovs-vswitchd.ctl", f"--log-file={ovs}/ovs-vswitchd.log", "--detach")
        ns.pids = [int((ovs / f"{name}.pid").read_text()) for name in ("ovsdb-server", "ovs-vswitchd")]
        yield ns
    finally:
        for pid in ns.pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        subprocess.run(["ip", "netns", "del", ns.name], capture_output=True)
        subprocess.run(["ip", "link", "del", ns.outside], capture_output=True)


class AgentHost:
    """One agent process on a fixed port and config; start, SIGKILL, restart; and what it left behind."""

    def __init__(self, root: Path, pki: Pki, *, vmm: str = "qemu", netns: Netns | None = None,
                 auth: dict[str, Any] | None = None) -> None:
        self.root, self.pki, self.netns = root, pki, netns
        self.port = free_port()
        self.address = netns.inside if netns else "127.0.0.1"
        self.templates = templates(root / "templates")
        host: dict[str, Any] = {
            "vmm": vmm, "qemu_accel": "tcg", "firecracker_bin": str(FIRECRACKER),
            "kernel_dir": str(self.templates / "kernel"), "image_dir": str(self.templates / "images"),
            "state_dir": str(root / "state"), "run_dir": str(root / "run"), "log_dir": str(root / "log"),
            "stop_grace_seconds": 30, "reconcile_interval_seconds": 1, "boot_id_file": str(root / "boot_id"),
        }
        net: dict[str, Any] = {"driver": "none"}
        if netns is not None:
            net = {"driver": "ovs", "host_bridge": "sbtbr0", "db": netns.ovs_db, "datapath_type": "netdev"}
        self.config = {
            "bind_host": self.address, "bind_port": self.port,
            "defaults": {
                "host": host, "net": net,
                "storage": {"driver": "file", "volume_dir": str(root / "volumes")},
                "console": {"bind_host": self.address, "port_min": 26900, "port_max": 26999},
            },
            "security": {"tls": {
                "enabled": True, "cert_file": str(pki.directory / "server.crt"),
                "key_file": str(pki.directory / "server.key"), "ca_file": str(pki.ca), "client_auth": "required",
                "allowed_clients": [pki.fingerprint("mgmt")],
            }},
            "auth": {"enabled": True, "service": pamusers.PAM_SERVICE, "admin_group": pamusers.ADMIN_GROUP,
                     "readonly_group": pamusers.READONLY_GROUP, **(auth or {})},
            "logging": {"level": "INFO"},
        }
        (root / "boot_id").write_text("boot-1\n")
        self.config_path = root / "agent.json"
        self.config_path.write_text(json.dumps(self.config, indent=1))
        self.log_path = root / "agent.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"https://{self.address}:{self.port}"

    def details(self, **overrides: str) -> dict[str, str]:
        """Host details as an operator sets them for this agent (file paths on the management server)."""
        cert, key = self.pki.client("mgmt")
        return {"url": f"https://{self.address}", "port": str(self.port), "username": pamusers.ADMIN,
                "password": pamusers.PASSWORD, "ca_bundle": str(self.pki.ca), "client_cert": str(cert),
                "client_key": str(key), **overrides}

    def start(self, timeout: float = 60) -> None:
        argv = [sys.executable, "-m", "switchboard.agent.cli", "serve", "--config", str(self.config_path)]
        if self.netns is not None:
            argv = ["ip", "netns", "exec", self.netns.name, *argv]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"agent exited with {self.proc.returncode}: {self.log()}")
            try:
                with self.http(auth=False) as client:
                    if client.get("/healthz").status_code == 200:
                        return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"agent did not come up: {self.log()}")

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would (its VMMs live on in their own tmux server)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()

    def close(self) -> None:
        """Stop the agent and whatever VMMs it left (its private tmux server, recorded pids)."""
        self.stop()
        sock = self.tmux_socket
        if sock.exists():
            subprocess.run(["tmux", "-S", str(sock), "kill-server"], capture_output=True)
        for pid_file in (self.root / "state" / "vmm").glob("vms/*/vmm.pid"):
            with contextlib.suppress(ValueError, ProcessLookupError):
                os.kill(int(pid_file.read_text().strip()), signal.SIGKILL)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def http(self, *, auth: bool = True, timeout: float = 60) -> httpx.Client:
        """A client of the agent as the management server is (client `mgmt`, the admin user)."""
        context = ssl.create_default_context(cafile=str(self.pki.ca))
        context.load_cert_chain(*map(str, self.pki.client("mgmt")))
        credentials = (pamusers.ADMIN, pamusers.PASSWORD) if auth else None
        return httpx.Client(base_url=self.url, verify=context, auth=credentials, timeout=timeout)

    def console(self, vm: str) -> str:
        with self.http() as http:
            return http.get(f"/v1/vms/{vm}/console/log", params={"tail_bytes": 1 << 20}).text

    def wait_console(self, vm: str, text: str, count: int = 1, timeout: float = BOOT_TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        log = ""
        while time.monotonic() < deadline:
            log = self.console(vm)
            if log.count(text) >= count:
                return log
            time.sleep(0.5)
        raise AssertionError(f"{text!r} x{count} not in the console of {vm}:\n{log[-3000:]}")

    def state(self, vm: str) -> str:
        with self.http() as http:
            return str(http.get(f"/v1/vms/{vm}/status").json()["state"])

    def wait_state(self, vm: str, state: str, timeout: float = BOOT_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while (found := self.state(vm)) != state:
            assert time.monotonic() < deadline, f"{vm} is {found}, never {state}"
            time.sleep(0.3)

    @property
    def tmux_socket(self) -> Path:
        return self.root / "state" / "vmm" / "tmux" / "server.sock"

    def type(self, vm: str, line: str) -> None:
        """Type a line into the guest's serial console (its pane in the agent's private tmux server)."""
        sock = str(self.tmux_socket)
        subprocess.run(["tmux", "-S", sock, "send-keys", "-t", f"={vm}:", "-l", line], check=True)
        subprocess.run(["tmux", "-S", sock, "send-keys", "-t", f"={vm}:", "Enter"], check=True)

    def leftovers(self, vm: str, secrets: list[str]) -> list[str]:
        """What is left of `vm` on the host, one line per thing; [] when nothing is. Looks for its tmux
        session, volumes, sockets and runtime files, records, snapshots and logs, TAPs and OVS ports, and
        for any file of the agent's (config, log, state, runtime) holding one of `secrets`."""
        found = []
        sessions = subprocess.run(["tmux", "-S", str(self.tmux_socket), "list-sessions", "-F", "#{session_name}"],
                                  capture_output=True, text=True).stdout.split()
        found += [f"tmux session {name}" for name in sessions if name == vm]
        found += [f"volume {path}" for path in (self.root / "volumes").rglob("*") if path.is_file()]
        found += [f"socket {path}" for path in (self.root / "run").rglob("*") if path.is_socket()]
        for path in (self.root / "run" / vm, self.root / "state" / "vms" / f"{vm}.json",
                     self.root / "state" / "snapshots" / vm, self.root / "log" / vm):
            if path.exists():
                found.append(f"runtime or state file {path}")
        skipped = {"templates", "pki", "rogue", "ovs"}
        for path in self.root.rglob("*"):
            if path.is_file() and not skipped & set(path.relative_to(self.root).parts):
                data = path.read_bytes()
                found += [f"a secret in {path}" for secret in secrets if secret.encode() in data]
        if self.netns is not None:
            found += [f"TAP {link}" for link in self.netns.links() if re.fullmatch(r"sb[a-z2-7]{12}", link)]
            if subprocess.run(["ovs-vsctl", f"--db={self.netns.ovs_db}", "br-exists", "sbtbr0"]).returncode == 0:
                found += [f"OVS port {port}" for port in self.netns.vsctl("list-ports", "sbtbr0").split()]
        return found
