"""Config drives: how SSH keys, user data and metadata reach a guest without the host touching its disk.

Each VM that is given any gets one small read-only ISO 9660 image (Rock Ridge and Joliet names), labelled
`config-2` (or the payload's `configDriveLabel`), attached as its last disk. The layout is CloudStack's
config drive, which cloud-init's ConfigDrive source and the project's test guest read:

    cloudstack/metadata/<name>.txt        one file per metadata entry; public-keys.txt holds the SSH keys
    cloudstack/userdata/user_data.txt     the user data, decoded
    cloudstack/password/vm_password.txt   when the payload carries one
    openstack/latest/meta_data.json       uuid, name, hostname, public_keys (OpenStack's format)
    openstack/latest/user_data            the user data again
    openstack/latest/vendor_data.json, network_data.json   `{}`

Why a drive and not Firecracker's MMDS or a kernel argument: it works the same on every VMM driver, needs
no guest network (MMDS is reached over a NIC, and VMs may have none), holds user data of any size that
CloudStack allows (the kernel command line is 2 KiB, and every process in the guest can read it), and
guests built for CloudStack already read it. Images live in `<state_dir>/configdrive/<vm>.iso` (0600,
directory 0700): user data may hold secrets. They are built by `genisoimage` (or `xorrisofs`/`mkisofs`)
through the host-command runner, from a private scratch directory, and replaced atomically.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from switchboard.agent.errors import BackendError
from switchboard.agent.hostcmd import CommandRunner, check
from switchboard.agent.model import GuestData
from switchboard.agent.names import validate_vm_name
from switchboard.agent.state import private_dir

__all__ = ["ConfigDriveError", "ConfigDrives", "drive_files"]

ISO_TOOLS = ("genisoimage", "xorrisofs", "mkisofs")


class ConfigDriveError(BackendError):
    """No tool to build ISO images is installed."""


def drive_files(data: GuestData) -> dict[str, bytes]:
    """The drive's files (relative path -> content) for `data`, in CloudStack's layout."""
    files: dict[str, bytes] = {}
    metadata = dict(data.metadata)
    if data.ssh_keys:
        metadata["public-keys"] = "\n".join(data.ssh_keys) + "\n"
    for name, content in metadata.items():
        files[f"cloudstack/metadata/{name}.txt"] = content.encode()
    if data.password is not None:
        files["cloudstack/password/vm_password.txt"] = data.password.encode()
    if data.user_data is not None:
        files["cloudstack/userdata/user_data.txt"] = data.user_data
        files["openstack/latest/user_data"] = data.user_data
    meta: dict[str, object] = {
        "uuid": data.instance_id,
        "name": data.hostname,
        "hostname": data.hostname,
        "launch_index": 0,
        "public_keys": {f"key-{i}": key for i, key in enumerate(data.ssh_keys, start=1)},
        "keys": [{"name": f"key-{i}", "type": "ssh", "data": key} for i, key in enumerate(data.ssh_keys, start=1)],
    }
    if metadata.get("availability-zone"):
        meta["availability_zone"] = metadata["availability-zone"]
    files["openstack/latest/meta_data.json"] = json.dumps(meta, indent=1).encode()
    files["openstack/latest/vendor_data.json"] = b"{}"
    files["openstack/latest/network_data.json"] = b"{}"
    return files


class ConfigDrives:
    """The config drive images of one host, in `directory` (created 0700)."""

    def __init__(self, directory: Path, runner: CommandRunner) -> None:
        self.directory = directory
        self._runner = runner

    def path(self, name: str) -> Path:
        return self.directory / f"{validate_vm_name(name)}.iso"

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def write(self, name: str, data: GuestData) -> Path:
        """Build `name`'s drive from `data`, replacing the one it had. Raises ConfigDriveError (no ISO
        tool) or CommandFailed; the previous drive stays then."""
        tool = next((found for tool in ISO_TOOLS if (found := shutil.which(tool))), None)
        if tool is None:
            raise ConfigDriveError("no ISO tool for the config drive (SSH keys, user data): install genisoimage")
        private_dir(self.directory)
        target = self.path(name)
        scratch = self.directory / f".build-{target.stem}"
        partial = self.directory / f".{target.name}.partial"
        shutil.rmtree(scratch, ignore_errors=True)
        try:
            for relative, content in drive_files(data).items():
                file = scratch / relative
                file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(content)
            partial.unlink(missing_ok=True)
            check(self._runner, [tool, "-quiet", "-o", str(partial), "-V", data.label, "-r", "-J",
                                 "-input-charset", "utf-8", str(scratch)], timeout=60)  # fmt: skip
            os.chmod(partial, 0o600)
            os.replace(partial, target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
            partial.unlink(missing_ok=True)
        return target

    def remove(self, name: str) -> None:
        """Delete `name`'s drive; no error when it has none."""
        self.path(name).unlink(missing_ok=True)
