"""Temporary local users and groups (prefixed sbt) and the shipped PAM service file, for real PAM tests.

Names carry this process's id, so test sessions running side by side never delete each other's users."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
_ID = f"{os.getpid() % 100000:05d}"
PAM_SERVICE = f"sbt-agent-{_ID}"
PASSWORD = "Sbt-Pw-4711!"
ADMIN_GROUP, READONLY_GROUP = f"sbtga{_ID}", f"sbtgr{_ID}"
ADMIN, READER, NOBODY = f"sbta{_ID}", f"sbtr{_ID}", f"sbtn{_ID}"
USERS = {ADMIN: ADMIN_GROUP, READER: READONLY_GROUP, NOBODY: None}
GROUPS = (ADMIN_GROUP, READONLY_GROUP)


def _run(*args: str, stdin: bytes | None = None) -> None:
    result = subprocess.run(args, input=stdin, capture_output=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {result.stderr.decode().strip()}")


def _remove() -> None:
    for user in USERS:
        subprocess.run(["userdel", user], capture_output=True)
    for group in GROUPS:
        subprocess.run(["groupdel", group], capture_output=True)
    (Path("/etc/pam.d") / PAM_SERVICE).unlink(missing_ok=True)


@contextmanager
def pam_users() -> Iterator[None]:
    """Create the users and groups and install the PAM file; remove all of it afterwards."""
    for tool in ("useradd", "groupadd", "chpasswd"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is needed for the PAM tests (Debian package passwd)")
    _remove()
    try:
        shutil.copyfile(REPO / "deploy" / "pam.d" / "switchboard-agent", Path("/etc/pam.d") / PAM_SERVICE)
        for group in GROUPS:
            _run("groupadd", group)
        for user, group in USERS.items():
            _run("useradd", "-M", "-s", "/usr/sbin/nologin", *(["-G", group] if group else []), user)
            _run("chpasswd", stdin=f"{user}:{PASSWORD}".encode())
        yield
    finally:
        _remove()
