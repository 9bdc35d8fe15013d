"""Real agent processes booting the real test guest: config, clean-up, and waiting on what the guest prints.

The `templates` fixture (agentcore/conftest.py) holds the built guest's kernel and root image; VMM is the
QEMU driver (TCG) or the Firecracker driver on the Firecracker stand-in; storage `file`, network `none`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import httpx
from fcstandin import FIRECRACKER
from guest import guest_artifacts
from tests.support.eventually import eventually

from agentcore.harness import Pki, payload

BOOT_TIMEOUT = 120.0
MARKER = "SWITCHBOARD-GUEST-BOOTED"
SHUTDOWN = "SWITCHBOARD-GUEST-SHUTDOWN"
VMMS = ("qemu", "firecracker")


def agent_config(
    root: Path, templates: Path, pki: Pki, vmm: str = "qemu", *, auth: dict[str, Any] | None = None,
    allowed_clients: list[str] | None = None,
) -> dict[str, Any]:
    """A config for a real agent process on this host; mTLS always, PAM when `auth` is given."""
    guest = guest_artifacts()
    tls: dict[str, Any] = {
        "enabled": True, "cert_file": str(pki.directory / "server.crt"), "key_file": str(pki.directory / "server.key"),
        "ca_file": str(pki.ca), "client_auth": "required",
    }
    if allowed_clients is not None:
        tls["allowed_clients"] = allowed_clients
    return {
        "defaults": {
            "host": {
                "vmm": vmm, "qemu_accel": "tcg", "initrd": str(guest.initrd), "firecracker_bin": str(FIRECRACKER),
                "kernel_dir": str(templates / "kernel"), "image_dir": str(templates / "images"),
                "state_dir": str(root / "state"), "run_dir": str(root / "run"), "log_dir": str(root / "log"),
                "stop_grace_seconds": 60, "reconcile_interval_seconds": 1,
                "boot_id_file": str(root / "boot_id"),
            },
            "storage": {"driver": "file", "volume_dir": str(root / "volumes")},
            "net": {"driver": "none"},
            "console": {"port_min": 25950, "port_max": 25999},
        },
        "security": {"tls": tls},
        "auth": auth or {"enabled": False},
        "logging": {"level": "INFO"},
    }


def vm_payload(name: str) -> dict[str, Any]:
    """A create payload for the test guest (no NIC)."""
    return payload(name, vlan=None, kernel="vmlinux", image="guest.ext4", boot_args=guest_artifacts().boot_args)


def cleanup_vmms(state: Path) -> None:
    """Stop whatever VMMs a test left: the private tmux server, then any pid still recorded."""
    sock = state / "vmm" / "tmux" / "server.sock"
    if sock.exists():
        subprocess.run(["tmux", "-S", str(sock), "kill-server"], capture_output=True)
    for pid_file in (state / "vmm").glob("vms/*/vmm.pid"):
        with contextlib.suppress(ValueError, ProcessLookupError):
            os.kill(int(pid_file.read_text().strip()), signal.SIGKILL)


def console(http: httpx.Client, name: str) -> str:
    return http.get(f"/v1/vms/{name}/console/log", params={"tail_bytes": 1 << 20}).text


def wait_console(http: httpx.Client, name: str, text: str, count: int = 1) -> str:
    """The console log once it shows `text` at least `count` times."""
    return eventually(
        lambda: (log := console(http, name)).count(text) >= count and log,
        what=f"{text!r} x{count} in the console of {name}", timeout=BOOT_TIMEOUT, interval=0.25,
    )


def wait_state(http: httpx.Client, name: str, state: str, timeout: float = BOOT_TIMEOUT) -> None:
    eventually(lambda: http.get(f"/v1/vms/{name}/status").json()["state"] == state,
               what=f"{name} to be {state}", timeout=timeout, interval=0.2)


def wait_desired(http: httpx.Client, name: str, state: str, timeout: float = 30) -> dict[str, Any]:
    """The VM's details once its desired state is `state`."""
    return eventually(
        lambda: (details := http.get(f"/v1/vms/{name}/details").json())["desired_state"] == state and details,
        what=f"the desired state of {name} to become {state}", timeout=timeout, interval=0.2,
    )


def type_into(root: Path, vm: str, line: str) -> None:
    """Type a command into the guest's serial console through the agent's private tmux server."""
    sock = str(root / "state" / "vmm" / "tmux" / "server.sock")
    subprocess.run(["tmux", "-S", sock, "send-keys", "-t", f"={vm}:", "-l", line], check=True)
    subprocess.run(["tmux", "-S", sock, "send-keys", "-t", f"={vm}:", "Enter"], check=True)
