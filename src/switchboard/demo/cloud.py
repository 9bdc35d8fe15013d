"""The demo cloud: what `switchboard serve` seeds into an empty cloud so a newcomer can deploy at once.

Seeded through the infrastructure, extension and custom-action services, in one transaction: zone
"Demo Zone" → pod → External cluster registered to the demo's extension → one host; the public, featured
template "Demo microVM" tied to the extension; an Isolated guest network "Demo Network" owned by the admin,
with a VLAN from the guest VLAN range. The service offerings are the ones every installation has.

Two demos share that shape (`seed_cloud`). The real one (`switchboard.demo.microvm`) drives the built-in
Firecracker extension and a local agent that boots the test guest. The pretend one, here, drives the
user-defined extension "Demo", whose entry point `demo/demo.py` under the extensions root is copied from
`switchboard/builtin_extensions/Demo/demo.py` and only pretends, with the enabled custom action "Hello".

Seeding happens only while the cloud has no zone at all: a cloud somebody already set up is never touched,
and a second start (or a second server racing this one) finds the zone and does nothing.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from switchboard.caller import Caller
from switchboard.db.engine import Database
from switchboard.db.models.extensions import Extension
from switchboard.db.models.identity import User
from switchboard.db.models.infrastructure import NetworkOffering
from switchboard.errors import Conflict, SwitchboardError
from switchboard.extensions.custom_actions.service import NewAction, add_action
from switchboard.extensions.paths import normalise_relative_path
from switchboard.extensions.registry import ExtensionRegistry, NewExtension
from switchboard.identity.bootstrap import ADMIN_USERNAME
from switchboard.identity.repository import find_user, make_caller
from switchboard.infra import clusters, hosts, networks, pods, templates, zones
from switchboard.infra.extension_link import ExtensionRef

__all__ = ["DEMO_EXTENSION", "DEMO_SOURCE", "DEMO_TEMPLATE", "DEMO_ZONE", "DemoCloud", "DemoShape", "announce",
           "restore_entry_point", "seed_at_start", "seed_cloud", "seed_demo", "seed_into_empty_cloud"]

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


def seed_at_start(db: Database, registry: ExtensionRegistry, *, guest_vlans: range) -> bool:
    """What `switchboard serve` does with the demo at start: seed it into an empty cloud, or put its executable
    back on a server that lacks it. True when it was seeded now.

    The demo is a convenience: a failure is logged, and the server runs on without it."""
    seeded = None
    try:
        seeded = seed_demo(db, registry, guest_vlans=guest_vlans)
        if seeded is None and restore_entry_point(db, registry):
            log.info("installed the demo extension's executable on this server")
    except (SwitchboardError, SQLAlchemyError, OSError) as exc:
        log.error("the demo cloud could not be seeded: %s", exc)
    if seeded is not None:
        log.info("seeded the demo cloud (zone %s)", seeded.zone)
    return seeded is not None


def seed_demo(db: Database, registry: ExtensionRegistry, *, guest_vlans: range) -> DemoCloud | None:
    """Seed the pretend demo cloud when the cloud has no zone; returns what was seeded, or None when skipped.

    Skips (None) when a zone exists, when the admin user is gone, or when another server seeded first.
    Raises SwitchboardError subclasses when a service refuses (then nothing is kept: one transaction) and
    OSError when the demo entry point cannot be installed.
    """
    return seed_into_empty_cloud(db, lambda session, admin: _seed(session, registry, admin, guest_vlans),
                                 before=lambda: _install_entry_point(registry))


def seed_into_empty_cloud(db: Database, seed: Callable[[Session, Caller], DemoCloud], *,
                          before: Callable[[], None] | None = None) -> DemoCloud | None:
    """Run `seed` (in one transaction, as the admin) when the cloud has no zone; `before` runs first, once
    the cloud is known to be empty. None when skipped: a zone exists, the admin user is gone, or another
    server seeded at the same moment."""
    with db.session() as session:
        if zones.all_zones(session):
            return None
        admin = find_user(session, User.username == ADMIN_USERNAME)
        if admin is None:
            log.warning("demo cloud not seeded: there is no user %r", ADMIN_USERNAME)
            return None
        if before is not None:
            before()
        try:
            return seed(session, make_caller(admin))
        except (Conflict, IntegrityError):
            # A second server seeding at the same moment won: its demo is as good as ours.
            session.rollback()
            return None


def restore_entry_point(db: Database, registry: ExtensionRegistry) -> bool:
    """Put the demo executable back when the Demo extension exists but this server lacks its file (a new
    management server sharing the database, or a wiped extensions directory), and decide its readiness again.

    Returns True when the file was installed. An operator's own file at that path is never replaced.
    Raises OSError when the file cannot be written."""
    with db.session() as session:
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


@dataclass(frozen=True, kw_only=True)
class DemoShape:
    """What differs between the demos: the extension, the host and the template."""

    extension: Extension
    zone_description: str
    host_url: str
    host_details: Mapping[str, str]
    template_text: str
    template_details: Mapping[str, str]


def seed_cloud(session: Session, registry: ExtensionRegistry, admin: Caller, guest_vlans: range,
               shape: DemoShape) -> DemoCloud:
    """Zone, pod, cluster (registered to the extension), host, template and network of a demo, in the
    caller's transaction."""
    extension = shape.extension
    ref = ExtensionRef(id=extension.id, uuid=extension.uuid, name=extension.name)
    zone = zones.create_zone(session, zones.ZoneSpec(
        name=DEMO_ZONE, description=shape.zone_description, dns1="10.0.0.1", internal_dns1="10.0.0.1",
        guest_cidr="10.1.1.0/24"))
    pod = pods.create_pod(session, zone, name="Demo Pod", gateway="192.168.100.1", netmask="255.255.255.0",
                          start_ip="192.168.100.10", end_ip="192.168.100.200")
    cluster = clusters.add_cluster(session, zone, pod, name="Demo Cluster", hypervisor="External")
    registry.register(session, extension, resource_id=cluster.uuid, resource_type="Cluster")
    hosts.add_host(session, zone, pod, cluster, url=shape.host_url, hypervisor="External", username="external",
                   external_details=dict(shape.host_details) or None)
    template = templates.register_template(session, admin, [zone], templates.TemplateSpec(
        name=DEMO_TEMPLATE, display_text=shape.template_text, url="http://demo.invalid/microvm", extension=ref,
        is_public=True, is_featured=True, external_details=dict(shape.template_details) or None))
    offering = session.execute(
        select(NetworkOffering).where(NetworkOffering.name == _ISOLATED_OFFERING, NetworkOffering.removed.is_(None))
    ).scalar_one()
    network = networks.create_network(session, admin, zone, offering, networks.NetworkSpec(
        name=DEMO_NETWORK, display_text="Isolated demo network"), dynamic_vlans=guest_vlans)
    session.flush()
    return DemoCloud(zone=zone.uuid, extension=extension.uuid, template=template.uuid, network=network.uuid)


def _seed(session: Session, registry: ExtensionRegistry, admin: Caller, guest_vlans: range) -> DemoCloud:
    extension = _extension(session, registry)
    seeded = seed_cloud(session, registry, admin, guest_vlans, DemoShape(
        extension=extension, zone_description="A demo zone whose instances are pretend",
        host_url="http://demo-host-1", host_details={},
        template_text="A pretend microVM run by the Demo extension", template_details={}))
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
    return seeded


def announce(settings_host: str, port: int, *, seeded: bool, what: str = "") -> None:
    """One line on the console telling the user where to log in (and, with `what`, what the demo offers)."""
    host = "127.0.0.1" if settings_host in ("0.0.0.0", "::", "") else settings_host
    ready = "Demo cloud ready: " if seeded else ""
    more = f"; {what}" if what else ""
    print(f"{ready}open http://{host}:{port}/ and log in as admin "
          "(password shown at first start - or in admin-credentials.txt of the data directory when the server "
          f"runs without a terminal - or SWITCHBOARD_ADMIN_PASSWORD){more}", file=sys.stdout, flush=True)
