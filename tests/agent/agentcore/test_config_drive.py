"""Guest data from the CloudStack payload (SSH keys, vmData) and the config drive built from it: a real
ISO 9660 image read back with isoinfo, in CloudStack's layout and with the label cloud-init looks for."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from agentcore.harness import payload
from switchboard.agent.configdrive import ConfigDrives, drive_files
from switchboard.agent.errors import InvalidRequest
from switchboard.agent.hostcmd import SubprocessRunner
from switchboard.agent.payload import guest_data_from_payload, spec_from_payload


def _key(comment: str) -> str:
    public = ed25519.Ed25519PrivateKey.generate().public_key()
    return public.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode() + " " + comment


def _payload(details: dict[str, str] | None = None, vm_data: object = None) -> dict[str, object]:
    raw = payload("cd-1")
    raw["cloudstack.vm.details"]["details"].update(details or {})  # type: ignore[index]
    if vm_data is not None:
        raw["cloudstack.vm.details"]["vmData"] = vm_data  # type: ignore[index]
    return raw


def test_keys_come_from_the_detail_vm_data_and_the_request_once_each_in_that_order() -> None:
    a, b, c = _key("a"), _key("b"), _key("c")
    data = guest_data_from_payload(
        _payload({"SSH.PublicKey": f"{b}\n{a}\n"}, [["metadata", "public-keys", a], ["metadata", "vm-id", "u-1"]]),
        ssh_public_key=f"{c}\r\n{b}",
    )
    assert data is not None
    assert data.ssh_keys == (a, b, c)
    assert (data.instance_id, data.hostname, data.label) == ("u-1", "cd-1", "config-2")
    assert data.metadata == (("vm-id", "u-1"),)


def test_a_payload_with_nothing_for_the_guest_gives_no_drive_and_the_spec_ignores_guest_data() -> None:
    assert guest_data_from_payload(_payload()) is None
    secret = base64.b64encode(b"#cloud-config\npassword: S3cret-user-data\n").decode()
    raw = _payload({"SSH.PublicKey": _key("k")}, [["userdata", "user_data", secret]])
    assert spec_from_payload(raw) == spec_from_payload(_payload())  # neither identity nor record changes
    assert "S3cret" not in json.dumps(spec_from_payload(raw).to_json())


@pytest.mark.parametrize(
    ("details", "vm_data", "label", "error"),
    [
        ({"SSH.PublicKey": "ssh-ed25519 AAAA"}, None, None, "not an OpenSSH public key"),
        ({"SSH.PublicKey": "ssh-rsa " + base64.b64encode(b"\0\0\0\x0bssh-ed25519xx").decode()}, None, None,
         "not an OpenSSH public key"),
        ({}, [["userdata", "user_data", "not base64!"]], None, "base64"),
        ({}, [["userdata", "user_data", base64.b64encode(b"x" * ((1 << 20) + 1)).decode()]], None, "larger"),
        ({}, [["metadata", "a/b", "x"]], None, "invalid folder or file name"),
        ({}, [["metadata", "x"]], None, "[folder, file, content]"),
        ({"SSH.PublicKey": _key("k")}, None, "config 2", "configDriveLabel"),
    ],
)
def test_bad_guest_data_is_refused(details: dict[str, str], vm_data: object, label: str | None, error: str) -> None:
    raw = _payload(details, vm_data)
    if label is not None:
        raw["cloudstack.vm.details"]["configDriveLabel"] = label  # type: ignore[index]
    with pytest.raises(InvalidRequest, match=error.replace("[", r"\[").replace("]", r"\]")):
        guest_data_from_payload(raw)


def _iso_file(iso: Path, path: str) -> bytes:
    return subprocess.run(["isoinfo", "-R", "-i", str(iso), "-x", path], capture_output=True, check=True).stdout


def test_the_drive_is_an_iso_in_cloudstacks_layout_private_to_root(tmp_path: Path) -> None:
    if shutil.which("genisoimage") is None or shutil.which("isoinfo") is None:
        pytest.fail("genisoimage is needed (scripts/ci-deps.sh installs it)")
    key = _key("ops")
    user_data = b"#!/bin/sh\necho hi\n"
    raw = _payload({"SSH.PublicKey": key}, [
        ["userdata", "user_data", base64.b64encode(user_data).decode()],
        ["metadata", "availability-zone", "zone-1"],
        ["password", "vm_password", "Pw-123"],
    ])
    data = guest_data_from_payload(raw)
    assert data is not None
    drives = ConfigDrives(tmp_path / "configdrive", SubprocessRunner())
    iso = drives.write("cd-1", data)
    assert iso.stat().st_mode & 0o777 == 0o600 and (tmp_path / "configdrive").stat().st_mode & 0o777 == 0o700
    assert sorted(p.name for p in (tmp_path / "configdrive").iterdir()) == ["cd-1.iso"]  # no scratch left
    label = subprocess.run(["isoinfo", "-d", "-i", str(iso)], capture_output=True, text=True, check=True).stdout
    assert "Volume id: config-2" in label
    assert _iso_file(iso, "/cloudstack/metadata/public-keys.txt") == (key + "\n").encode()
    assert _iso_file(iso, "/cloudstack/userdata/user_data.txt") == user_data
    assert _iso_file(iso, "/openstack/latest/user_data") == user_data
    assert _iso_file(iso, "/cloudstack/password/vm_password.txt") == b"Pw-123"
    meta = json.loads(_iso_file(iso, "/openstack/latest/meta_data.json"))
    assert meta["public_keys"] == {"key-1": key} and meta["availability_zone"] == "zone-1"
    assert meta["uuid"] == "uuid-cd-1" and meta["hostname"] == "cd-1"
    assert set(drive_files(data)) == {
        "cloudstack/metadata/public-keys.txt", "cloudstack/metadata/availability-zone.txt",
        "cloudstack/password/vm_password.txt", "cloudstack/userdata/user_data.txt", "openstack/latest/user_data",
        "openstack/latest/meta_data.json", "openstack/latest/vendor_data.json", "openstack/latest/network_data.json",
    }
    drives.remove("cd-1")
    drives.remove("cd-1")
    assert not drives.exists("cd-1")
