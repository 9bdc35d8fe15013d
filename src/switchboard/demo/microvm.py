"""The demo of real microVMs: the built-in Firecracker extension driving a local agent (`LocalAgent`) that
boots the project's test guest with QEMU, registered as the demo's zone, cluster and host, with the guest
as the template "Demo microVM".

`why_not` says in one line why this machine cannot run it (not root, not x86-64 Linux, QEMU or tmux
missing, the guest cannot be built), or None. `prepare` builds (or reuses) the guest image and sets the
agent up; `seed` registers it all into an empty cloud.
"""

from __future__ import annotations

import os
import platform
import shutil
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from switchboard.caller import Caller
from switchboard.db.engine import Database
from switchboard.db.models.extensions import Extension
from switchboard.db.models.infrastructure import Host
from switchboard.demo import guest
from switchboard.demo.cloud import DemoCloud, DemoShape, seed_cloud, seed_into_empty_cloud
from switchboard.demo.local_agent import IMAGE, INITRD, KERNEL, LocalAgent
from switchboard.errors import NotFound
from switchboard.extensions.registry import ExtensionRegistry

__all__ = ["FIRECRACKER", "HOST_URL", "demo_host_registered", "prepare", "seed", "template_details", "why_not"]

FIRECRACKER = "Firecracker"
HOST_URL = "https://127.0.0.1"  # the demo host's url (its agent's port is a detail)
_TOOLS = {"qemu-system-x86_64": "qemu-system-x86", "qemu-img": "qemu-utils", "tmux": "tmux"}


def why_not(guest_dir: Path) -> str | None:
    """Why this machine cannot run the demo's microVMs (one line), or None when it can."""
    if os.geteuid() != 0:
        return f"they need root (the agent runs QEMU and makes disks), and this server runs as uid {os.geteuid()}"
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        return f"they need x86-64 Linux, and this is {platform.system()} on {platform.machine()}"
    wanted = {package for tool, package in _TOOLS.items() if shutil.which(tool) is None}
    if guest.cached(guest_dir) is None:
        wanted.update(guest.missing_tools())
    missing = sorted(wanted)
    if missing:
        return (f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not installed (`make run` as root "
                f"installs {'it' if len(missing) == 1 else 'them'}: apt-get install {' '.join(missing)})")
    return None


def template_details(artifacts: guest.GuestArtifacts) -> dict[str, str]:
    """The demo template's details: the guest's files on the agent, and its kernel command line."""
    return {"kernel": KERNEL, "initrd": INITRD, "image": IMAGE, "boot_args": artifacts.boot_args}


def prepare(agent: LocalAgent, guest_dir: Path) -> guest.GuestArtifacts:
    """Build (or reuse) the guest and set the agent up. Raises guest.BuildError, LocalAgentError, OSError."""
    artifacts = guest.cached(guest_dir) or guest.build(guest_dir, check_kernel=False)
    agent.prepare(artifacts)
    return artifacts


def seed(db: Database, registry: ExtensionRegistry, agent: LocalAgent, artifacts: guest.GuestArtifacts, *,
         guest_vlans: range) -> DemoCloud | None:
    """Register the demo host, its template and network into an empty cloud (None: the cloud has a zone)."""

    def shape(session: Session, admin: Caller) -> DemoCloud:
        extension = session.execute(
            select(Extension).where(Extension.name == FIRECRACKER, Extension.removed.is_(None),
                                    Extension.is_user_defined.is_(False))
        ).scalar_one_or_none()
        if extension is None:
            raise NotFound("the built-in Firecracker extension is not there")
        return seed_cloud(session, registry, admin, guest_vlans, DemoShape(
            extension=extension, zone_description="A demo zone whose instances are microVMs on this machine",
            host_url=HOST_URL, host_details=agent.host_details(),
            template_text="The project's test guest: a small Linux microVM that prints SWITCHBOARD-GUEST-BOOTED",
            template_details=template_details(artifacts)))

    return seed_into_empty_cloud(db, shape)


def demo_host_registered(db: Database) -> bool:
    """Whether the cloud still has the demo's host (the agent is started only then)."""
    with db.session() as session:
        found = session.execute(
            select(Host.id).where(Host.url == HOST_URL, Host.removed.is_(None)).limit(1)
        ).scalar_one_or_none()
    return found is not None
