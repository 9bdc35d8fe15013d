"""The demo cloud: what `switchboard serve` seeds into an empty cloud so a newcomer can deploy at once.

Seeded through the infrastructure, extension and custom-action services, in one transaction: zone
"Demo Zone" → pod → External cluster registered to the user-defined extension "Demo" → one host; the
public, featured template "Demo microVM" tied to the extension; an Isolated guest network "Demo Network"
owned by the admin, with a VLAN from the guest VLAN range; and the enabled custom action "Hello" on the
extension. The service offerings are the ones every installation has. The extension's entry point is
`demo/demo.py` under the extensions root, copied from `switchboard/builtin_extensions/Demo/demo.py`.

Seeding happens only while the cloud has no zone at all: a cloud somebody already set up is never touched,
and a second start (or a second server racing this one) finds the zone and does nothing.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from switchboard.api.caller import Caller
from switchboard.db.models.extensions import Extension
from switchboard.db.models.identity import User
from switchboard.db.models.infrastructure import NetworkOffering
from switchboard.errors import Conflict
from switchboard.extensions.custom_actions.service import NewAction, add_action
from switchboard.extensions.paths import normalise_relative_path
from switchboard.extensions.registry import ExtensionRegistry, NewExtension, registry_of
from switchboard.identity.bootstrap import ADMIN_USERNAME
from switchboard.identity.repository import find_user, make_caller
from switchboard.infra import clusters, hosts, networks, pods, templates, zones
from switchboard.infra.extension_link import ExtensionRef
from switchboard.infra.settings import SETTINGS_SERVICE, InfraSettings
from switchboard.services import Services

__all__ = ["DEMO_EXTENSION", "DEMO_SOURCE", "DEMO_TEMPLATE", "DEMO_ZONE", "DemoCloud", "announce",
           "restore_entry_point", "seed_demo"]

log = logging.getLogger(__name__)

DEMO_ZONE = "Demo Zone"
DEMO_EXTENSION = "Demo"
DEMO_TEMPLATE = "Demo microVM"
DEMO_NETWORK = "Demo Network"
DEMO_ACTION = "Hello"
DEMO_ENTRY_FILE = "demo.py"  # relative to the extension's directory, `<root>/demo/` (names are lower-cased)
DEMO_SOURCE = Path(__file__).resolve().parent.parent / "builtin_extensions" / "Demo" / "demo.py"
_ISOLATED_OFFERING = "DefaultIsolatedNetworkOffering"
_ALL_ROLES = ["Admin", "ResourceAdmin", "DomainAdmin", "User"]


@dataclass(frozen=True)
class DemoCloud:
    """The uuids of what was seeded."""

    zone: str
    extension: str
    template: str
    network: str


def seed_demo(services: Services) -> DemoCloud | None:
    """Seed the demo cloud when the cloud has no zone; returns what was seeded, or None when skipped.

    Skips (None) when a zone exists, when the admin user is gone, or when another server seeded first.
    Raises SwitchboardError subclasses when a service refuses (then nothing is kept: one transaction) and
    OSError when the demo entry point cannot be installed.
    """
    registry = registry_of(services)
    with services.db.session() as session:
        if zones.all_zones(session):
            return None
        admin = find_user(session, User.username == ADMIN_USERNAME)
        if admin is None:
            log.warning("demo cloud not seeded: there is no user %r", ADMIN_USERNAME)
            return None
        _install_entry_point(registry)
        try:
            return _seed(session, services, registry, make_caller(admin))
        except (Conflict, IntegrityError):
            # A second server seeding at the same moment won: its demo is as good as ours.
            session.rollback()
            return None


def restore_entry_point(services: Services) -> bool:
    """Put the demo executable back when the Demo extension exists but this server lacks its file (a new
    management server sharing the database, or a wiped extensions directory), and decide its readiness again.

    Returns True when the file was installed. An operator's own file at that path is never replaced.
    Raises OSError when the file cannot be written."""
    registry = registry_of(services)
    with services.db.session() as session:
        extension = session.execute(
            select(Extension).where(Extension.name == DEMO_EXTENSION, Extension.removed.is_(None),
                                    Extension.is_user_defined.is_(True))
        ).scalar_one_or_none()
        expected = normalise_relative_path(DEMO_EXTENSION, DEMO_ENTRY_FILE)
        if extension is None or extension.relative_path != expected:
            return False
        target = registry.roots.extensions / expected
        if target.exists() or target.is_symlink():
            return False
        _install_entry_point(registry)
        registry.prepare_path(session, extension)
        return True


def _install_entry_point(registry: ExtensionRegistry) -> None:
    """Copy the demo executable into the extensions root (atomically, 0755) unless it is there already."""
    target = registry.roots.extensions / normalise_relative_path(DEMO_EXTENSION, DEMO_ENTRY_FILE)
    data = DEMO_SOURCE.read_bytes()
    if target.is_file() and target.read_bytes() == data:
        return
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".demo.")
    try:
        with os.fdopen(fd, "wb") as out, DEMO_SOURCE.open("rb") as source:
            shutil.copyfileobj(source, out)
        os.chmod(temporary, 0o755)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _extension(session: Session, registry: ExtensionRegistry) -> Extension:
    existing = session.execute(
        select(Extension).where(Extension.name == DEMO_EXTENSION, Extension.removed.is_(None))
    ).scalar_one_or_none()
    if existing is not None:  # left behind by an earlier demo whose zone was deleted: use it again
        return existing
    return registry.create(session, NewExtension(
        name=DEMO_EXTENSION, type="Orchestrator", path=DEMO_ENTRY_FILE,
        description="Demo extension: pretends to run instances (switchboard/builtin_extensions/Demo/demo.py)",
    ))


def _seed(session: Session, services: Services, registry: ExtensionRegistry, admin: Caller) -> DemoCloud:
    extension = _extension(session, registry)
    ref = ExtensionRef(id=extension.id, uuid=extension.uuid, name=extension.name)
    zone = zones.create_zone(session, zones.ZoneSpec(
        name=DEMO_ZONE, description="A demo zone whose instances are pretend", dns1="10.0.0.1",
        internal_dns1="10.0.0.1", guest_cidr="10.1.1.0/24"))
    pod = pods.create_pod(session, zone, name="Demo Pod", gateway="192.168.100.1", netmask="255.255.255.0",
                          start_ip="192.168.100.10", end_ip="192.168.100.200")
    cluster = clusters.add_cluster(session, zone, pod, name="Demo Cluster", hypervisor="External")
    registry.register(session, extension, resource_id=cluster.uuid, resource_type="Cluster")
    hosts.add_host(session, zone, pod, cluster, url="http://demo-host-1", hypervisor="External",
                   username="external")
    template = templates.register_template(session, admin, [zone], templates.TemplateSpec(
        name=DEMO_TEMPLATE, display_text="A pretend microVM run by the Demo extension",
        url="http://demo.invalid/microvm", extension=ref, is_public=True, is_featured=True))
    offering = session.execute(
        select(NetworkOffering).where(NetworkOffering.name == _ISOLATED_OFFERING, NetworkOffering.removed.is_(None))
    ).scalar_one()
    settings = services.get(SETTINGS_SERVICE)
    vlans = settings.dynamic_vlans if isinstance(settings, InfraSettings) else networks.DYNAMIC_VLANS
    network = networks.create_network(session, admin, zone, offering, networks.NetworkSpec(
        name=DEMO_NETWORK, display_text="Isolated demo network"), dynamic_vlans=vlans)
    add_action(session, NewAction(
        extension_uuid=extension.uuid, name=DEMO_ACTION, description="Say hello from the Demo extension",
        allowed_roles=_ALL_ROLES, enabled=True, timeout=10,
        parameters=[
            {"name": "name", "type": "STRING", "required": "true"},
            {"name": "shout", "type": "BOOLEAN", "required": "false"},
            {"name": "mood", "type": "STRING", "valueoptions": "calm,happy,curious", "required": "false"},
        ],
        success_message="{{extensionName}} greeted {{resourceName}}",
        error_message="{{extensionName}} could not greet {{resourceName}}",
    ))
    session.flush()
    return DemoCloud(zone=zone.uuid, extension=extension.uuid, template=template.uuid, network=network.uuid)


def announce(settings_host: str, port: int, *, seeded: bool) -> None:
    """One line on the console telling the user where to log in."""
    host = "127.0.0.1" if settings_host in ("0.0.0.0", "::", "") else settings_host
    what = "Demo cloud ready: " if seeded else ""
    print(f"{what}open http://{host}:{port}/ and log in as admin "
          "(password printed at first start, or SWITCHBOARD_ADMIN_PASSWORD)", file=sys.stdout, flush=True)
