"""deployVirtualMachine's synchronous half: check the request and create the Stopped instance with its NICs.

Runs in the API request's transaction; the start (planner, prepare, create) is the job's. What is checked
here is what CloudStack refuses before queueing: the template must be an External template tied to a usable
extension, the offering must give CPU and memory, the networks must be usable by the owner in the zone,
the name must be a valid host name. Without networks, an Advanced zone's instance goes on the owner's only
Isolated network there, or on one made for it from the offering whose availability is Required, as in
CloudStack.

What the guest is given is stored with the instance as CloudStack stores it: the key pairs' public keys
(one per line) and names as the details `SSH.PublicKey` and `SSH.KeyPairNames`, the user data in
`instance_user_data`; its volumes are allocated (see `switchboard.infra.volumes`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from switchboard.caller import Caller
from switchboard.compute import limits
from switchboard.db.models.compute import Instance, InstanceDetail, InstanceState
from switchboard.db.models.extensions import Extension
from switchboard.db.models.guest_data import InstanceUserData
from switchboard.db.models.identity import Account
from switchboard.db.models.infrastructure import (
    EXTERNAL_PREFIX,
    Cluster,
    ClusterDetail,
    GuestType,
    Host,
    HostDetail,
    NetworkType,
    ServiceOfferingDetail,
    TemplateDetail,
    TemplateState,
    Zone,
)
from switchboard.errors import InvalidParameter
from switchboard.extensions.payload import VLAN_KEY
from switchboard.extensions.registry import require_usable
from switchboard.infra import details as detail_store
from switchboard.infra import network_offerings, networks, nics, volumes
from switchboard.infra.clusters import EXTERNAL
from switchboard.infra.events import record_event
from switchboard.infra.networks import NetworkRef
from switchboard.infra.offerings import OfferingRef
from switchboard.infra.owners import Owner
from switchboard.infra.templates import TemplateRef
from switchboard.infra.volumes import DataDisk
from switchboard.infra.zones import ZoneRef

__all__ = [
    "DEPLOY_VM",
    "RESERVED_DETAILS",
    "SSH_KEYPAIR_NAMES",
    "SSH_PUBLIC_KEY",
    "DeploySpec",
    "GuestDataSpec",
    "check_deploy_details",
    "create_instance",
    "valid_hostname",
]

# The instance detail that marks an instance whose first start (the deploy) has not completed yet.
DEPLOY_VM = "deployvm"
# CloudStack's VmDetailConstants for the key pairs an instance was deployed with.
SSH_PUBLIC_KEY = "SSH.PublicKey"
SSH_KEYPAIR_NAMES = "SSH.KeyPairNames"
ROOT_DISK_SIZE = "rootdisksize"

# `externaldetails.virtualmachine` keys a tenant never sets at deploy time: what decides where an instance's
# disks, image, kernel and network come from on the host (the Firecracker agent's keys and their aliases).
# Only a Root Admin may give them at deploy; `cloudstack.vlan` nobody may: the server derives it from the
# default NIC, and another value would put the instance on a network the database does not record.
SERVER_SET_DETAILS = frozenset({VLAN_KEY})
RESERVED_DETAILS = SERVER_SET_DETAILS | frozenset({
    "image", "image_url", "image_checksum", "kernel", "initrd", "storage", "storage_driver", "net", "net_driver",
    "data_disks", "root_disk_size", "rootdisksize",
})

_MAX_SIZE = 2**31 - 1  # what the instance's integer columns hold
_HOSTNAME = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def valid_hostname(name: str) -> str:
    """CloudStack's rule for instance names: 1-63 letters, digits and hyphens, not starting with a digit or
    a hyphen, not ending with a hyphen. InvalidParameter(parameter="name") otherwise."""
    if not _HOSTNAME.match(name) or name[0].isdigit():
        raise InvalidParameter(
            "Invalid value for instance name: it can contain the ASCII letters 'a' through 'z', the digits '0' "
            "through '9', and the hyphen ('-'), must be between 1 and 63 characters long, and can't start or end "
            "with \"-\" and can't start with digit", parameter="name")
    return name


@dataclass(frozen=True, kw_only=True)
class GuestDataSpec:
    """What the guest is given: key pairs as (name, public key), base64 user data (validated), the
    registered user data it came from, and its variables' values in CloudStack's `{k=v}` form."""

    keypairs: Sequence[tuple[str, str]] = ()
    user_data: str | None = None
    user_data_id: int | None = None
    user_data_details: str | None = None


@dataclass(frozen=True, kw_only=True)
class DeploySpec:
    """deployVirtualMachine's parameters, resolved to live rows (template, zone, offering and networks as
    the few columns deploying reads). `external_details` keys come without prefix; `details` may carry cpuNumber /
    cpuSpeed / memory for an offering without fixed values."""

    zone: ZoneRef
    template: TemplateRef
    offering: OfferingRef
    networks: Sequence[NetworkRef] = ()
    name: str | None = None
    display_name: str | None = None
    external_details: Mapping[str, str] = field(default_factory=dict)
    details: Mapping[str, str] = field(default_factory=dict)
    guest: GuestDataSpec = field(default_factory=GuestDataSpec)
    root_disk_gb: int | None = None  # `rootdisksize` (or details[0].rootdisksize, which wins)
    data_disk: DataDisk | None = None


def _sizes(spec: DeploySpec) -> tuple[int, int, int]:
    offering, details = spec.offering, spec.details

    def pick(fixed: int | None, key: str, default: int | None) -> int:
        if fixed is not None:
            return fixed
        text = details.get(key)
        if text is None:
            if default is None:
                raise InvalidParameter(f"The service offering {offering.name} is a custom offering: give "
                                       f"details[0].{key}", parameter="details")
            return default
        try:
            value = int(text)
        except ValueError:
            raise InvalidParameter(f"details[0].{key} must be a number", parameter="details") from None
        if not 1 <= value <= _MAX_SIZE:
            raise InvalidParameter(f"details[0].{key} must be between 1 and {_MAX_SIZE}", parameter="details")
        return value

    return pick(offering.cpu, "cpuNumber", None), pick(offering.speed, "cpuSpeed", 0), \
        pick(offering.ram_size, "memory", None)


# The external detail keys the hosts of a zone serving one extension set, and their clusters (resource map).
_HOST_KEYS = (
    select(HostDetail.name).join(Host, Host.id == HostDetail.host_id).join(Cluster, Cluster.id == Host.cluster_id)
    .where(Cluster.extension_id == bindparam("extension"), Host.zone_id == bindparam("zone"),
           HostDetail.display.is_(True), Host.removed.is_(None))
    .union(select(ClusterDetail.name).join(Cluster, Cluster.id == ClusterDetail.cluster_id)
           .where(Cluster.extension_id == bindparam("extension"), Cluster.zone_id == bindparam("zone"),
                  ClusterDetail.display.is_(True), Cluster.removed.is_(None)))
)


def check_deploy_details(session: Session, caller: Caller, spec: DeploySpec) -> None:
    """Refuse deploy-time external details that would override what an admin set: reserved keys
    (`RESERVED_DETAILS`; `cloudstack.vlan` for everyone, the others for all but Root Admins) and, for all but
    Root Admins, keys the template, the offering, or a host (or its cluster) the instance may run on sets.
    Users may add keys of their own. Raises InvalidParameter naming the keys."""
    given = set(spec.external_details)
    if not given:
        return
    server_set = sorted(given & SERVER_SET_DETAILS)
    if server_set:
        raise InvalidParameter(f"externaldetails may not set {', '.join(server_set)}: the server sets it from the "
                               "instance's default network", parameter="externaldetails")
    if caller.is_admin:
        return
    reserved = sorted(given & RESERVED_DETAILS)
    if reserved:
        raise InvalidParameter(f"externaldetails may not set {', '.join(reserved)}: reserved for the template, "
                               "offering and host details an administrator configures", parameter="externaldetails")
    template = spec.template
    admin_set = set(detail_store.external_only(
        detail_store.all_details(session, TemplateDetail, [template.id])[template.id]))
    admin_set |= set(detail_store.external_only(
        detail_store.all_details(session, ServiceOfferingDetail, [spec.offering.id])[spec.offering.id]))
    if template.extension_id is not None:
        names = session.scalars(_HOST_KEYS, {"extension": template.extension_id, "zone": spec.zone.id})
        admin_set |= set(detail_store.external_only(dict.fromkeys(names, "")))
    overridden = sorted(given & admin_set)
    if overridden:
        raise InvalidParameter(f"externaldetails may not override {', '.join(overridden)}: set by the template, "
                               "the service offering or the hosts", parameter="externaldetails")


def _default_networks(session: Session, caller: Caller, owner: Owner, zone: ZoneRef,
                      guest_vlans: range) -> list[NetworkRef]:
    """What CloudStack deploys on when no network is given: in an Advanced zone, the owner's only Isolated
    network there, made for it ("<account>-network") from the one network offering whose availability is
    Required when it has none; InvalidParameter when it has several, or none and no offering is Required.
    In a Basic zone, nothing."""
    if session.execute(select(Zone.network_type).where(Zone.id == zone.id)).scalar_one() != NetworkType.ADVANCED:
        return []
    # Locked first, so that two deploys of one account never both make its default network.
    limits.lock_account(session, owner.account_id)
    account = session.execute(select(Account.name).where(Account.id == owner.account_id)).scalar_one()
    found = networks.account_networks(session, account_id=owner.account_id, zone_id=zone.id,
                                      guest_type=GuestType.ISOLATED.value)
    if len(found) > 1:
        raise InvalidParameter(f"More than 1 default Isolated networks are found for Account {account}; please "
                               "specify networkIds", parameter="networkids")
    if found:
        return found
    required = network_offerings.required_offering(session)
    if required is None:
        raise InvalidParameter(f"No network is specified and account {account} has no Isolated network in zone "
                               f"{zone.name}, nor is any network offering's availability Required to create one; "
                               "create a network or specify networkids", parameter="networkids")
    network = networks.create_network(session, caller, session.get_one(Zone, zone.id), required,
                                      networks.NetworkSpec(name=f"{account}-network"), owner=owner,
                                      dynamic_vlans=guest_vlans)
    record_event(session, type="NETWORK.CREATE", description=f"Created network {network.name} for a deploy without "
                 "networks", actor=caller, resource_type="Network", resource_uuid=network.uuid)
    return [networks.network_ref(session.connection(), network.uuid, parameter="networkids")]


def create_instance(
    session: Session, caller: Caller, owner: Owner, spec: DeploySpec, *, vnc_sealer: Callable[[str], bytes],
    recheck: Callable[[Extension], bool] | None = None, guest_vlans: range = networks.DYNAMIC_VLANS,
) -> Instance:
    """Create the instance (Stopped, `deployvm=true`, `updated` 0) with its details and NICs.

    `vnc_sealer(uuid) -> bytes` seals a fresh VNC password for the new instance. Raises InvalidParameter
    for an unusable template, network or name or external details that override what an admin set,
    ExtensionUnusable for an unusable extension, PermissionDenied for a network the caller may not use,
    InsufficientCapacity when a network has no free address, LimitExceeded when the owner's account or a
    domain above it would go past a resource limit. `recheck` looks at an extension found not ready once
    more (ExtensionRegistry.recheck). `guest_vlans` are the VLANs a default network made for the deploy
    takes its own from.
    """
    template, zone = spec.template, spec.zone
    if template.hypervisor_type != EXTERNAL:  # a TemplateRef is never of a removed template
        raise InvalidParameter(f"Template {template.name} is not an External template", parameter="templateid")
    if template.state != TemplateState.ACTIVE.value:
        raise InvalidParameter(f"Template {template.name} is not active", parameter="templateid")
    # As the planner's template_extension_or_refuse, which takes the ORM template.
    require_usable(session.get(Extension, template.extension_id) if template.extension_id is not None else None,
                   recheck=recheck)
    check_deploy_details(session, caller, spec)
    cpus, speed, memory = _sizes(spec)
    limits.check_size(session, cpus=cpus, memory=memory,
                      custom=spec.offering.cpu is None or spec.offering.ram_size is None)
    chosen = list(spec.networks) or _default_networks(session, caller, owner, zone, guest_vlans)
    for network in chosen:
        if network.zone_id != zone.id:
            raise InvalidParameter(f"Network {network.name} is not in zone {zone.name}", parameter="networkids")
        networks.check_ref_access(caller, network, session)
    name = valid_hostname(spec.name) if spec.name else None
    # Last of the checks: it locks the owner's account and domains until the request commits.
    limits.check_new_instances(session, account_id=owner.account_id, wanted=limits.Amounts(1, cpus, memory))
    instance = Instance(
        name=name or "pending", display_name=spec.display_name or name or "pending", account_id=owner.account_id,
        domain_id=owner.domain_id, user_id=caller.user_id if caller.account_id == owner.account_id else None,
        zone_id=zone.id, template_id=template.id, service_offering_id=spec.offering.id,
        state=InstanceState.STOPPED.value, updated=0, cpus=cpus, speed=speed, memory=memory, arch=template.arch,
        ha_enabled=spec.offering.offer_ha, limit_cpu_use=spec.offering.limit_cpu_use,
        dynamically_scalable=template.dynamically_scalable and spec.offering.dynamic_scaling_enabled,
    )
    session.add(instance)
    session.flush()
    instance.instance_name = f"i-{owner.account_id}-{instance.id}-VM"
    if name is None:  # CloudStack names unnamed instances after their uuid
        instance.name = f"VM-{instance.uuid}"
        instance.display_name = spec.display_name or instance.name
    instance.vnc_password_sealed = vnc_sealer(instance.uuid)
    # Template external details are copied at creation, then deploy-time ones override them (§2.2; what a
    # tenant may give is checked by check_deploy_details). What an admin configured stays hidden from the
    # instance's owner (display=false): a template's details unless the owner owns the template, and
    # details a Root Admin gave at deploy time.
    template_shown = template.account_id == owner.account_id
    stored = {key: (value, template_shown) for key, value in detail_store.all_details(
        session, TemplateDetail, [template.id])[template.id].items() if key.startswith(EXTERNAL_PREFIX)}
    stored.update({f"{EXTERNAL_PREFIX}{key}": (str(value), not caller.is_admin)
                   for key, value in spec.external_details.items()})
    stored[DEPLOY_VM] = ("true", True)
    stored.update({key: (value, True) for key, value in _guest_details(spec.guest).items()})
    root_gb = _requested_root_gb(spec)
    if root_gb is not None:  # as CloudStack keeps a deploy's rootdisksize (GiB) among the instance's details
        stored[ROOT_DISK_SIZE] = (str(root_gb), True)
    session.add_all(InstanceDetail(instance_id=instance.id, name=k, value=v, display=shown)
                    for k, (v, shown) in stored.items())
    guest = spec.guest
    if guest.user_data is not None or guest.user_data_id is not None:
        session.add(InstanceUserData(instance_id=instance.id, content=guest.user_data, user_data_id=guest.user_data_id,
                                     details=guest.user_data_details))
    for device_id, network in enumerate(chosen):
        nics.allocate_nic(session, network, instance_id=instance.id, device_id=device_id, is_default=device_id == 0)
    root_bytes = volumes.root_size(requested_gb=root_gb, offering_gb=spec.offering.root_disk_size,
                                   template_bytes=spec.template.size)
    volumes.allocate_volumes(session, instance, root_bytes=root_bytes, data=spec.data_disk)
    session.flush()
    return instance


def _guest_details(guest: GuestDataSpec) -> dict[str, str]:
    if not guest.keypairs:
        return {}
    return {SSH_PUBLIC_KEY: "\n".join(key for _name, key in guest.keypairs),
            SSH_KEYPAIR_NAMES: ",".join(name for name, _key in guest.keypairs)}


def _requested_root_gb(spec: DeploySpec) -> int | None:
    """The root disk size the deploy asked for: details[0].rootdisksize, else `rootdisksize` (GiB)."""
    requested = spec.details.get(ROOT_DISK_SIZE)
    if requested is None:
        return spec.root_disk_gb
    try:
        return int(requested)
    except ValueError:
        raise InvalidParameter("details[0].rootdisksize must be a number (GB)", parameter="details") from None
