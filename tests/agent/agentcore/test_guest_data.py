"""SSH keys and user data reach a real booted guest through its config drive, on both VMM drivers, and the
host never mounts the guest's disk: the keys the guest installed are read back from its root disk with
debugfs (no mount) after the guest wrote them."""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from agentcore.agentproc import AgentProcess
from agentcore.harness import Pki, client
from agentcore.realguests import MARKER, VMMS, agent_config, cleanup_vmms, vm_payload, wait_console

pytestmark = [pytest.mark.slow, pytest.mark.root]



def _public_key(private: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey, comment: str) -> str:
    return private.public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode() + " " + comment


KEY_DETAIL = _public_key(ed25519.Ed25519PrivateKey.generate(), "ops@cloudstack")
KEY_BODY = _public_key(ed25519.Ed25519PrivateKey.generate(), "admin@laptop")
KEY_NEW = _public_key(ec.generate_private_key(ec.SECP256R1()), "rotated@cloudstack")
USER_DATA = b"#!/bin/sh\necho user-data-ran-as-$(id -u) > /root/user-data.out\necho HELLO-FROM-USER-DATA\n"


@pytest.fixture(params=VMMS)
def agent(request: pytest.FixtureRequest, tmp_path: Path, templates: Path, pki: Pki) -> Iterator[AgentProcess]:
    (tmp_path / "boot_id").write_text("boot-1\n")
    process = AgentProcess(tmp_path, pki, agent_config(tmp_path, templates, pki, request.param))
    process.start()
    try:
        yield process
    finally:
        process.stop()
        cleanup_vmms(tmp_path / "state")


def _guest_file(volume: Path, path: str) -> str:
    """A file from the guest's ext4 root disk, read by debugfs without mounting it."""
    out = subprocess.run(["debugfs", "-R", f"cat {path}", str(volume)], capture_output=True, text=True, check=True)
    return out.stdout


def test_ssh_keys_and_user_data_reach_the_guest_through_its_config_drive(agent: AgentProcess) -> None:
    spec = vm_payload("keys-1")
    spec["cloudstack.vm.details"]["details"]["SSH.PublicKey"] = KEY_DETAIL
    spec["cloudstack.vm.details"]["vmData"] = [
        ["userdata", "user_data", base64.b64encode(USER_DATA).decode()],
        ["metadata", "local-hostname", "keys-1"],
        ["metadata", "vm-id", "uuid-keys-1"],
    ]
    with client(agent.url, agent.pki, auth=None, timeout=180) as http:
        created = http.post("/v1/vms", json={"spec": spec, "ssh_public_key": KEY_BODY})
        assert created.status_code == 201, created.text
        log = wait_console(http, "keys-1", MARKER)
        assert f"SWITCHBOARD-GUEST-SSH-KEY {KEY_DETAIL}" in log
        assert f"SWITCHBOARD-GUEST-SSH-KEY {KEY_BODY}" in log
        assert "HELLO-FROM-USER-DATA" in log and "SWITCHBOARD-GUEST-USER-DATA-RAN rc=0" in log
        details = http.get("/v1/vms/keys-1/details").json()
        drive = Path(details["paths"]["config_drive"])
        assert drive.stat().st_mode & 0o077 == 0  # user data may hold secrets
        assert "user-data-ran" not in http.get("/v1/vms/keys-1/details").text

        # The guest wrote the keys to its own disk; read them back offline once it is stopped.
        assert http.post("/v1/vms/keys-1/stop").status_code == 200
        volume = Path(details["storage"]["volume_file"])
        assert _guest_file(volume, "/root/.ssh/authorized_keys").splitlines() == [KEY_DETAIL, KEY_BODY]
        assert _guest_file(volume, "/root/user-data.out") == "user-data-ran-as-0\n"

        # CloudStack starts the VM with a new key (a reset key pair): the next boot installs it.
        spec["cloudstack.vm.details"]["details"]["SSH.PublicKey"] = KEY_NEW
        del spec["cloudstack.vm.details"]["vmData"]
        started = http.post("/v1/vms/keys-1/start", json={"spec": spec})
        assert started.status_code == 200, started.text
        log = wait_console(http, "keys-1", MARKER, count=2)
        assert log.rsplit(MARKER, 2)[1].count("SWITCHBOARD-GUEST-SSH-KEY") == 1
        assert f"SWITCHBOARD-GUEST-SSH-KEY {KEY_NEW}" in log.rsplit(MARKER, 2)[1]

        assert http.delete("/v1/vms/keys-1").status_code == 200
        assert not drive.exists()


def test_bad_keys_and_user_data_are_refused_before_anything_is_made(agent: AgentProcess) -> None:
    with client(agent.url, agent.pki, auth=None) as http:
        for details, vm_data, error in [
            ({"SSH.PublicKey": "ssh-rsa not base64!"}, None, "not an OpenSSH public key"),
            ({"SSH.PublicKey": "rm -rf /"}, None, "not an OpenSSH public key"),
            ({}, [["userdata", "user_data", "%%%"]], "base64"),
            ({}, [["../etc", "passwd", "x"]], "invalid folder or file name"),
            ({}, "not a list", "vmData must be a list"),
        ]:
            spec = vm_payload("bad-keys")
            spec["cloudstack.vm.details"]["details"].update(details)
            if vm_data is not None:
                spec["cloudstack.vm.details"]["vmData"] = vm_data
            reply = http.post("/v1/vms", json={"spec": spec})
            assert reply.status_code == 400, reply.text
            assert error in reply.json()["error"]
        assert _known(http) == []
    assert not (agent.root / "volumes" / "bad-keys").exists()


def _known(http: httpx.Client) -> list[str]:
    return [vm["name"] for vm in http.get("/v1/vms").json()["vms"]]
