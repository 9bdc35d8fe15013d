"""Where an instance runs (protocol notes §3.4).

The template's extension must be usable (Enabled and pathready, CloudStack's refusal texts otherwise).
Then: the instance's last host when it is still suitable; else an administrator's chosen host, which must
be suitable; else a random suitable host. Suitable: live, Up, Enabled, in an Enabled External cluster of
the instance's zone that is registered to the template's extension, with the offering's host tag if it has
one (CloudStack honours the first tag), and of the instance's architecture.
"""

from __future__ import annotations

import secrets

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from switchboard.db.models.compute import Instance
from switchboard.db.models.extensions import Extension
from switchboard.db.models.infrastructure import (
    AllocationState,
    Cluster,
    Host,
    HostStatus,
    ResourceState,
    ServiceOffering,
    Template,
)
from switchboard.errors import InsufficientCapacity, InvalidParameter
from switchboard.extensions.registry import require_usable
from switchboard.infra.clusters import EXTERNAL

__all__ = ["NoCapacity", "plan", "template_extension_or_refuse"]


class NoCapacity(InsufficientCapacity):
    """No host can take the instance (CloudStack's InsufficientServerCapacityException: 533)."""


def template_extension_or_refuse(session: Session, template: Template) -> Extension:
    """The template's extension if instances may use it; ExtensionUnusable ("Extension not connected",
    "Extension is disabled", "Extension is not ready") otherwise."""
    extension = session.get(Extension, template.extension_id) if template.extension_id is not None else None
    return require_usable(extension)


# Built once: every start plans.
_SUITABLE = (
    select(Host)
    .join(Cluster, Cluster.id == Host.cluster_id)
    .where(
        Host.zone_id == bindparam("zone_id"), Host.removed.is_(None), Host.status == HostStatus.UP.value,
        Host.resource_state == ResourceState.ENABLED.value, Host.arch == bindparam("arch"),
        Cluster.removed.is_(None), Cluster.hypervisor_type == EXTERNAL,
        Cluster.allocation_state == AllocationState.ENABLED.value, Cluster.extension_id == bindparam("extension_id"),
    )
    .order_by(Host.id)
)


def _suitable(session: Session, instance: Instance, extension: Extension, offering: ServiceOffering) -> list[Host]:
    hosts = list(session.execute(_SUITABLE, {"zone_id": instance.zone_id, "arch": instance.arch,
                                             "extension_id": extension.id}).scalars())
    tag = (offering.host_tag or "").split(",")[0].strip()
    if tag:
        hosts = [h for h in hosts if tag in [t.strip() for t in (h.host_tags or "").split(",")]]
    return hosts


def plan(
    session: Session, instance: Instance, template: Template, offering: ServiceOffering,
    *, wanted_host_id: int | None = None,
) -> tuple[Host, Extension]:
    """The host to start `instance` on, and the extension that will run it.

    Raises ExtensionUnusable for an unusable extension, InvalidParameter when the wanted host is not
    suitable, and NoCapacity when no host is.
    """
    extension = template_extension_or_refuse(session, template)
    hosts = _suitable(session, instance, extension, offering)
    by_id = {host.id: host for host in hosts}
    if instance.last_host_id is not None and instance.last_host_id in by_id:
        return by_id[instance.last_host_id], extension
    if wanted_host_id is not None:
        if wanted_host_id not in by_id:
            raise InvalidParameter(
                "The requested host cannot run this instance: it must be Up and Enabled, in an enabled External "
                f"cluster of the zone registered with extension {extension.name}", parameter="hostid")
        return by_id[wanted_host_id], extension
    if not hosts:
        raise NoCapacity(f"Unable to create a deployment for VM instance {instance.instance_name}: no Up and "
                         f"Enabled host in an External cluster registered with extension {extension.name}",
                         uuids=[instance.uuid])
    return hosts[secrets.randbelow(len(hosts))], extension
