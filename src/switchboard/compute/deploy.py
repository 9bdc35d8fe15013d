"""deployVirtualMachine's synchronous half: check the request and create the Stopped instance with its NICs.

Runs in the API request's transaction; the start (planner, prepare, create) is the job's. What is checked
here is what CloudStack refuses before queueing: the template must be an External template tied to a usable
extension, the offering must give CPU and memory, the networks must be usable by the owner in the zone,
the name must be a valid host name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from switchboard.api.caller import Caller
from switchboard.compute.records import DEPLOY_VM
from switchboard.db.models.compute import Instance, InstanceDetail, InstanceState
from switchboard.db.models.extensions import Extension
from switchboard.db.models.infrastructure import EXTERNAL_PREFIX, TemplateDetail, TemplateState
from switchboard.errors import InvalidParameter
from switchboard.extensions.registry import require_usable
from switchboard.infra import details as detail_store
from switchboard.infra import networks, nics
from switchboard.infra.clusters import EXTERNAL
from switchboard.infra.networks import NetworkRef
from switchboard.infra.offerings import OfferingRef
from switchboard.infra.owners import Owner
from switchboard.infra.templates import TemplateRef
from switchboard.infra.zones import ZoneRef

__all__ = ["DeploySpec", "create_instance", "valid_hostname"]

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
        if value < 1:
            raise InvalidParameter(f"details[0].{key} must be positive", parameter="details")
        return value

    return pick(offering.cpu, "cpuNumber", None), pick(offering.speed, "cpuSpeed", 0), \
        pick(offering.ram_size, "memory", None)


def create_instance(
    session: Session, caller: Caller, owner: Owner, spec: DeploySpec, *, vnc_sealer: Callable[[str], bytes],
) -> Instance:
    """Create the instance (Stopped, `deployvm=true`, `updated` 0) with its details and NICs.

    `vnc_sealer(uuid) -> bytes` seals a fresh VNC password for the new instance. Raises InvalidParameter
    for an unusable template, network or name, ExtensionUnusable for an unusable extension, PermissionDenied
    for a network the caller may not use, Conflict when a network has no free address.
    """
    template, zone = spec.template, spec.zone
    if template.hypervisor_type != EXTERNAL:  # a TemplateRef is never of a removed template
        raise InvalidParameter(f"Template {template.name} is not an External template", parameter="templateid")
    if template.state != TemplateState.ACTIVE.value:
        raise InvalidParameter(f"Template {template.name} is not active", parameter="templateid")
    # As the planner's template_extension_or_refuse, which takes the ORM template.
    require_usable(session.get(Extension, template.extension_id) if template.extension_id is not None else None)
    cpus, speed, memory = _sizes(spec)
    for network in spec.networks:
        if network.zone_id != zone.id:
            raise InvalidParameter(f"Network {network.name} is not in zone {zone.name}", parameter="networkids")
        networks.check_ref_access(caller, network)
    name = valid_hostname(spec.name) if spec.name else None
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
    # Template external details are copied at creation, then deploy-time ones override them (§2.2).
    stored = {key: value for key, value in detail_store.all_details(session, TemplateDetail, [template.id])
              [template.id].items() if key.startswith(EXTERNAL_PREFIX)}
    stored.update({f"{EXTERNAL_PREFIX}{key}": str(value) for key, value in spec.external_details.items()})
    stored[DEPLOY_VM] = "true"
    session.add_all(InstanceDetail(instance_id=instance.id, name=k, value=v) for k, v in stored.items())
    for device_id, network in enumerate(spec.networks):
        nics.allocate_nic(session, network, instance_id=instance.id, device_id=device_id, is_default=device_id == 0)
    session.flush()
    return instance
