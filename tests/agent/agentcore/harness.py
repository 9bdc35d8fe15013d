"""Running an agent for tests: certificates, config, the app served over real HTTPS in a thread, clients."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from tests.support.eventually import eventually

from switchboard.agent.api import AgentContext
from switchboard.agent.config import AgentConfig, parse_config
from switchboard.agent.pki import init_tls
from switchboard.agent.server import uvicorn_config


@dataclass(frozen=True)
class Pki:
    directory: Path  # the agent's: ca.crt, server.crt, server.key
    ca_dir: Path  # the CA's: ca.key and the client certificates
    rogue: Path  # the CA directory of a second CA with its own "mgmt" client certificate

    @property
    def ca(self) -> Path:
        return self.directory / "ca.crt"

    def client(self, name: str) -> tuple[str, str]:
        return str(self.ca_dir / f"client-{name}.crt"), str(self.ca_dir / f"client-{name}.key")

    def rogue_client(self) -> tuple[str, str]:
        return str(self.rogue / "client-mgmt.crt"), str(self.rogue / "client-mgmt.key")


def make_pki(root: Path) -> Pki:
    init_tls(root / "pki", ca_dir=root / "ca", hostnames=["localhost"], addresses=["127.0.0.1"],
             clients=["mgmt", "other", "ro"])
    init_tls(root / "rogue-agent", ca_dir=root / "rogue", hostnames=["localhost"], addresses=["127.0.0.1"],
             clients=["mgmt"], organisation="Rogue")
    return Pki(root / "pki", root / "ca", root / "rogue")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def agent_config(root: Path, pki: Pki, **sections: Any) -> AgentConfig:
    """A config rooted in `root` with TLS + mTLS on; `sections` are merged over it (one level deep)."""
    kernel_dir, image_dir = root / "kernels", root / "images"
    kernel_dir.mkdir(parents=True, exist_ok=True)
    image_dir.mkdir(parents=True, exist_ok=True)
    (kernel_dir / "vmlinux").write_bytes(b"\x7fELF fake kernel")
    (image_dir / "root.img").write_bytes(b"fake image")
    raw: dict[str, Any] = {
        "bind_host": "127.0.0.1",
        "bind_port": 0,
        "defaults": {
            "host": {
                "state_dir": str(root / "state"),
                "run_dir": str(root / "run"),
                "log_dir": str(root / "log"),
                "kernel_dir": str(kernel_dir),
                "image_dir": str(image_dir),
                "stop_grace_seconds": 5,
                "reconcile_interval_seconds": 3600,
            },
        },
        "security": {
            "tls": {
                "enabled": True,
                "cert_file": str(pki.directory / "server.crt"),
                "key_file": str(pki.directory / "server.key"),
                "ca_file": str(pki.ca),
                "client_auth": "required",
            }
        },
        "auth": {"enabled": True, "service": "sbt-unused", "admin_group": "sbtadm", "readonly_group": "sbtro"},
    }
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(raw.get(key), dict):
            raw[key] = {**raw[key], **value}
        else:
            raw[key] = value
    return parse_config(raw)


@contextmanager
def serve(agent: AgentContext, *, run_reconciler: bool = False) -> Iterator[str]:
    """Serve `agent` over HTTPS on a free loopback port in a thread; yields the base URL."""
    port = free_port()
    config = uvicorn_config(agent, port=port)
    if not run_reconciler:
        # Tests drive reconcile passes themselves, so the loop stays off unless asked for.
        config.lifespan = "off"
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="agent-under-test", daemon=True)
    thread.start()

    def started() -> bool:
        if not thread.is_alive():
            raise RuntimeError("agent under test exited at start")
        return server.started

    eventually(started, what="the agent under test to start", interval=0.02)
    try:
        yield f"https://localhost:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def client(
    base_url: str,
    pki: Pki,
    *,
    cert: tuple[str, str] | str | None = "mgmt",
    auth: tuple[str, str] | None = ("admin", "pw"),
    max_tls: ssl.TLSVersion | None = None,
    timeout: float = 30,
) -> httpx.Client:
    context = ssl.create_default_context(cafile=str(pki.ca))
    if isinstance(cert, str):
        cert = pki.client(cert)
    if cert is not None:
        context.load_cert_chain(*cert)
    if max_tls is not None:
        context.maximum_version = max_tls
    return httpx.Client(base_url=base_url, verify=context, auth=auth, timeout=timeout)


def payload(
    name: str,
    *,
    cpus: int = 1,
    ram_mib: int = 256,
    vlan: str | None = "vlan://120",
    kernel: str = "vmlinux",
    image: str = "root.img",
    boot_args: str | None = None,
    password: str = "host-S3cret!",
) -> dict[str, Any]:
    """A CloudStack create payload as the extension script forwards it (with secrets in it, on purpose)."""
    nics = []
    if vlan is not None:
        nics.append(
            {"deviceId": 0, "mac": "02:00:4c:5e:00:01", "ip": "10.1.1.10", "netmask": "255.255.255.0",
             "gateway": "10.1.1.1", "broadcastUri": vlan, "mtu": 1500, "uuid": "net-1", "nicUuid": "nic-1"}
        )
    details: dict[str, str] = {"kernel": kernel, "image": image}
    if boot_args:
        details["boot_args"] = boot_args
    return {
        "virtualmachinename": name,
        "virtualmachineid": f"uuid-{name}",
        "cloudstack.vm.details": {
            "name": name, "cpus": cpus, "minRam": ram_mib << 20, "maxRam": ram_mib << 20,
            "vncPassword": "vnc-S3cret!", "nics": nics, "details": {"deployvm": "true"},
        },
        "externaldetails": {
            "host": {"url": "https://fc01", "username": "fcapi", "password": password},
            "virtualmachine": details,
        },
    }
