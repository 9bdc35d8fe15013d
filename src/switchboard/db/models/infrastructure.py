"""Infrastructure models: where instances can run (zones, pods, clusters, hosts), what they are made from
(OS types, templates, service offerings) and how they are connected (network offerings, networks, NICs).

Rows are soft-deleted (`removed` set) so that instances, events and jobs that refer to them keep valid
references; name uniqueness among live rows is a service rule. NICs are the exception: a released NIC is
deleted, which lets unique constraints guard MAC and IP allocation.

Columns that tie clusters and templates to extensions (`extension_id`) hold the extension table's integer
id; their foreign keys arrive with the extensions migration. The NIC's `instance_id` likewise gains its
foreign key with the compute migration.

State columns hold the CloudStack wire value of the enums below (CloudStack's names are the domain's names
for these states, so they are not translated).
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.db.base import Base, TimestampMixin, UtcDateTime, UuidMixin, new_uuid, utcnow


class NetworkType(enum.StrEnum):
    ADVANCED = "Advanced"
    BASIC = "Basic"


class AllocationState(enum.StrEnum):
    ENABLED = "Enabled"
    DISABLED = "Disabled"


class HostStatus(enum.StrEnum):
    """Connection status of a host, as CloudStack's `state` field of listHosts."""

    CREATING = "Creating"
    CONNECTING = "Connecting"
    UP = "Up"
    DOWN = "Down"
    DISCONNECTED = "Disconnected"
    ALERT = "Alert"
    REMOVED = "Removed"
    ERROR = "Error"
    REBALANCING = "Rebalancing"
    UNKNOWN = "Unknown"


class ResourceState(enum.StrEnum):
    """Administrative state of a host (`resourcestate`)."""

    ENABLED = "Enabled"
    DISABLED = "Disabled"
    PREPARE_FOR_MAINTENANCE = "PrepareForMaintenance"
    MAINTENANCE = "Maintenance"
    ERROR_IN_MAINTENANCE = "ErrorInMaintenance"


class TemplateState(enum.StrEnum):
    ACTIVE = "Active"
    INACTIVE = "Inactive"


class GuestType(enum.StrEnum):
    L2 = "L2"
    ISOLATED = "Isolated"
    SHARED = "Shared"


class NetworkState(enum.StrEnum):
    ALLOCATED = "Allocated"
    SETUP = "Setup"
    IMPLEMENTED = "Implemented"
    DESTROY = "Destroy"


class OfferingState(enum.StrEnum):
    ACTIVE = "Active"
    INACTIVE = "Inactive"


EXTERNAL_PREFIX = "External:"


# --- where instances run -------------------------------------------------------------------------------


class Zone(UuidMixin, TimestampMixin, Base):
    __tablename__ = "zone"

    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String(1024), default=None)
    network_type: Mapped[str] = mapped_column(String(32), default=NetworkType.ADVANCED.value)
    dns1: Mapped[str | None] = mapped_column(String(255), default=None)
    dns2: Mapped[str | None] = mapped_column(String(255), default=None)
    internal_dns1: Mapped[str | None] = mapped_column(String(255), default=None)
    internal_dns2: Mapped[str | None] = mapped_column(String(255), default=None)
    ip6_dns1: Mapped[str | None] = mapped_column(String(255), default=None)
    ip6_dns2: Mapped[str | None] = mapped_column(String(255), default=None)
    guest_cidr: Mapped[str | None] = mapped_column(String(64), default=None)
    network_domain: Mapped[str | None] = mapped_column(String(255), default=None)
    allocation_state: Mapped[str] = mapped_column(String(32), default=AllocationState.ENABLED.value)
    security_groups_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    local_storage_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    zone_token: Mapped[str] = mapped_column(String(64), default=new_uuid)


class Pod(UuidMixin, TimestampMixin, Base):
    __tablename__ = "pod"

    name: Mapped[str] = mapped_column(String(255))
    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id"), index=True)
    gateway: Mapped[str | None] = mapped_column(String(64), default=None)
    netmask: Mapped[str | None] = mapped_column(String(64), default=None)
    start_ip: Mapped[str | None] = mapped_column(String(64), default=None)
    end_ip: Mapped[str | None] = mapped_column(String(64), default=None)
    allocation_state: Mapped[str] = mapped_column(String(32), default=AllocationState.ENABLED.value)


class Cluster(UuidMixin, TimestampMixin, Base):
    __tablename__ = "cluster"

    name: Mapped[str] = mapped_column(String(255))
    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id"), index=True)
    pod_id: Mapped[int] = mapped_column(ForeignKey("pod.id"), index=True)
    hypervisor_type: Mapped[str] = mapped_column(String(32))
    cluster_type: Mapped[str] = mapped_column(String(32), default="CloudManaged")
    allocation_state: Mapped[str] = mapped_column(String(32), default=AllocationState.ENABLED.value)
    managed_state: Mapped[str] = mapped_column(String(32), default="Managed")
    arch: Mapped[str] = mapped_column(String(16), default="x86_64")
    # extension.id once the extensions migration adds the table (no FK until then).
    extension_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)


class ClusterDetail(Base):
    """Cluster details; `External:`-prefixed keys are the extension resource map's details."""

    __tablename__ = "cluster_details"
    __table_args__ = (UniqueConstraint("cluster_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("cluster.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(Text)
    display: Mapped[bool] = mapped_column(Boolean, default=True)


class Host(UuidMixin, TimestampMixin, Base):
    __tablename__ = "host"

    name: Mapped[str] = mapped_column(String(255))
    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id"), index=True)
    pod_id: Mapped[int] = mapped_column(ForeignKey("pod.id"), index=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("cluster.id"), index=True)
    type: Mapped[str] = mapped_column(String(32), default="Routing")
    hypervisor_type: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32), default=HostStatus.UP.value)
    resource_state: Mapped[str] = mapped_column(String(32), default=ResourceState.ENABLED.value)
    url: Mapped[str] = mapped_column(String(1024))
    guid: Mapped[str] = mapped_column(String(255))
    private_ip_address: Mapped[str | None] = mapped_column(String(64), default=None)
    cpus: Mapped[int] = mapped_column(Integer, default=0)
    speed: Mapped[int] = mapped_column(Integer, default=0)  # MHz
    total_memory: Mapped[int] = mapped_column(BigInteger, default=0)  # bytes
    arch: Mapped[str] = mapped_column(String(16), default="x86_64")
    host_tags: Mapped[str | None] = mapped_column(String(1024), default=None)  # comma separated
    version: Mapped[str | None] = mapped_column(String(64), default=None)
    last_pinged: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)
    status_changed: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)


class HostDetail(Base):
    """Host details; `External:`-prefixed keys form the payload's `host` group. Passwords are never stored."""

    __tablename__ = "host_details"
    __table_args__ = (UniqueConstraint("host_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("host.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(Text)
    display: Mapped[bool] = mapped_column(Boolean, default=True)


# --- what instances are made from ----------------------------------------------------------------------


class GuestOsCategory(UuidMixin, Base):
    __tablename__ = "guest_os_category"

    name: Mapped[str] = mapped_column(String(255), unique=True)


class GuestOs(UuidMixin, TimestampMixin, Base):
    __tablename__ = "guest_os"

    category_id: Mapped[int] = mapped_column(ForeignKey("guest_os_category.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(255))
    is_user_defined: Mapped[bool] = mapped_column(Boolean, default=False)


class Template(UuidMixin, TimestampMixin, Base):
    __tablename__ = "template"

    name: Mapped[str] = mapped_column(String(255))
    display_text: Mapped[str | None] = mapped_column(String(4096), default=None)
    format: Mapped[str] = mapped_column(String(32))
    hypervisor_type: Mapped[str] = mapped_column(String(32))
    template_type: Mapped[str] = mapped_column(String(32), default="USER")
    url: Mapped[str | None] = mapped_column(String(2048), default=None)
    checksum: Mapped[str | None] = mapped_column(String(255), default=None)
    guest_os_id: Mapped[int | None] = mapped_column(ForeignKey("guest_os.id"), default=None)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id"), index=True)
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    is_featured: Mapped[bool] = mapped_column(Boolean, default=False)
    is_extractable: Mapped[bool] = mapped_column(Boolean, default=False)
    password_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    dynamically_scalable: Mapped[bool] = mapped_column(Boolean, default=False)
    requires_hvm: Mapped[bool] = mapped_column(Boolean, default=True)
    bootable: Mapped[bool] = mapped_column(Boolean, default=True)
    cross_zones: Mapped[bool] = mapped_column(Boolean, default=False)
    arch: Mapped[str] = mapped_column(String(16), default="x86_64")
    size: Mapped[int | None] = mapped_column(BigInteger, default=None)  # bytes
    state: Mapped[str] = mapped_column(String(32), default=TemplateState.ACTIVE.value)
    # extension.id once the extensions migration adds the table (no FK until then).
    extension_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)


class TemplateDetail(Base):
    """Template details; `External:`-prefixed keys feed the payload's `virtualmachine` group."""

    __tablename__ = "template_details"
    __table_args__ = (UniqueConstraint("template_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("template.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(Text)
    display: Mapped[bool] = mapped_column(Boolean, default=True)


class TemplateZone(Base):
    """Where a template is available, and whether it is ready there."""

    __tablename__ = "template_zone"
    __table_args__ = (UniqueConstraint("template_id", "zone_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("template.id", ondelete="CASCADE"), index=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id"), index=True)
    ready: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(255), default="")
    created: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ServiceOffering(UuidMixin, TimestampMixin, Base):
    __tablename__ = "service_offering"

    name: Mapped[str] = mapped_column(String(255))
    display_text: Mapped[str | None] = mapped_column(String(4096), default=None)
    cpu: Mapped[int | None] = mapped_column(Integer, default=None)  # number of vCPUs
    speed: Mapped[int | None] = mapped_column(Integer, default=None)  # MHz per vCPU
    ram_size: Mapped[int | None] = mapped_column(Integer, default=None)  # MiB
    offer_ha: Mapped[bool] = mapped_column(Boolean, default=False)
    limit_cpu_use: Mapped[bool] = mapped_column(Boolean, default=False)
    is_volatile: Mapped[bool] = mapped_column(Boolean, default=False)
    dynamic_scaling_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    host_tag: Mapped[str | None] = mapped_column(String(255), default=None)
    storage_type: Mapped[str] = mapped_column(String(32), default="shared")
    provisioning_type: Mapped[str] = mapped_column(String(32), default="thin")
    is_system: Mapped[bool] = mapped_column(Boolean, default=False)
    default_use: Mapped[bool] = mapped_column(Boolean, default=False)
    root_disk_size: Mapped[int | None] = mapped_column(Integer, default=None)  # GiB
    state: Mapped[str] = mapped_column(String(32), default=OfferingState.ACTIVE.value)
    sort_key: Mapped[int] = mapped_column(Integer, default=0)


class ServiceOfferingDetail(Base):
    """Offering details; `External:`-prefixed keys are the lowest-precedence `virtualmachine` details."""

    __tablename__ = "service_offering_details"
    __table_args__ = (UniqueConstraint("service_offering_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    service_offering_id: Mapped[int] = mapped_column(
        ForeignKey("service_offering.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(Text)
    display: Mapped[bool] = mapped_column(Boolean, default=True)


# --- how instances are connected -----------------------------------------------------------------------


class NetworkOffering(UuidMixin, TimestampMixin, Base):
    __tablename__ = "network_offering"

    name: Mapped[str] = mapped_column(String(255), unique=True)
    display_text: Mapped[str | None] = mapped_column(String(4096), default=None)
    guest_type: Mapped[str] = mapped_column(String(32))
    traffic_type: Mapped[str] = mapped_column(String(32), default="Guest")
    specify_vlan: Mapped[bool] = mapped_column(Boolean, default=False)
    specify_ip_ranges: Mapped[bool] = mapped_column(Boolean, default=False)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    is_persistent: Mapped[bool] = mapped_column(Boolean, default=False)
    conserve_mode: Mapped[bool] = mapped_column(Boolean, default=True)
    availability: Mapped[str] = mapped_column(String(32), default="Optional")
    network_rate: Mapped[int | None] = mapped_column(Integer, default=None)  # Mbit/s
    services: Mapped[str] = mapped_column(String(1024), default="")  # comma-separated service names
    state: Mapped[str] = mapped_column(String(32), default=AllocationState.ENABLED.value)
    for_vpc: Mapped[bool] = mapped_column(Boolean, default=False)


class Network(UuidMixin, TimestampMixin, Base):
    __tablename__ = "network"
    # A VLAN serves one live network per zone (untagged, i.e. NULL, may repeat).
    __table_args__ = (
        Index(
            "uq_network_zone_vlan_live", "zone_id", "vlan", unique=True,
            sqlite_where=text("removed IS NULL"), postgresql_where=text("removed IS NULL"),
        ),
    )

    name: Mapped[str] = mapped_column(String(255))
    display_text: Mapped[str | None] = mapped_column(String(4096), default=None)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id"), index=True)
    network_offering_id: Mapped[int] = mapped_column(ForeignKey("network_offering.id"), index=True)
    guest_type: Mapped[str] = mapped_column(String(32))
    traffic_type: Mapped[str] = mapped_column(String(32), default="Guest")
    broadcast_domain_type: Mapped[str] = mapped_column(String(32), default="Vlan")
    vlan: Mapped[int | None] = mapped_column(Integer, default=None)  # None → untagged
    gateway: Mapped[str | None] = mapped_column(String(64), default=None)
    netmask: Mapped[str | None] = mapped_column(String(64), default=None)
    cidr: Mapped[str | None] = mapped_column(String(64), default=None)
    start_ip: Mapped[str | None] = mapped_column(String(64), default=None)
    end_ip: Mapped[str | None] = mapped_column(String(64), default=None)
    dns1: Mapped[str | None] = mapped_column(String(255), default=None)
    dns2: Mapped[str | None] = mapped_column(String(255), default=None)
    network_domain: Mapped[str | None] = mapped_column(String(255), default=None)
    mtu: Mapped[int] = mapped_column(Integer, default=1500)
    network_rate: Mapped[int] = mapped_column(Integer, default=200)  # Mbit/s
    state: Mapped[str] = mapped_column(String(32), default=NetworkState.ALLOCATED.value)
    acl_type: Mapped[str] = mapped_column(String(32), default="Account")
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id"), index=True)
    display: Mapped[bool] = mapped_column(Boolean, default=True)


class Nic(UuidMixin, TimestampMixin, Base):
    """A network interface of an instance. Deleted when released, so MAC and IP can be reused."""

    __tablename__ = "nic"
    __table_args__ = (
        UniqueConstraint("network_id", "ip4_address"),
        Index("ix_nic_instance_device", "instance_id", "device_id"),
    )

    # instance.id once the compute migration adds the table (no FK until then).
    instance_id: Mapped[int | None] = mapped_column(Integer, default=None)
    network_id: Mapped[int] = mapped_column(ForeignKey("network.id"), index=True)
    mac_address: Mapped[str] = mapped_column(String(17), unique=True)
    ip4_address: Mapped[str | None] = mapped_column(String(64), default=None)
    ip6_address: Mapped[str | None] = mapped_column(String(64), default=None)
    device_id: Mapped[int] = mapped_column(Integer, default=0)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    broadcast_uri: Mapped[str] = mapped_column(String(255))
    isolation_uri: Mapped[str] = mapped_column(String(255))
    mode: Mapped[str] = mapped_column(String(16), default="Dhcp")
    state: Mapped[str] = mapped_column(String(32), default="Allocated")
