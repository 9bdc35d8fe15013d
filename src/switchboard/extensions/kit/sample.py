"""A realistic instance, host and extension for the conformance check, with freshly planted secrets."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, replace

from switchboard.extensions.payload_model import (
    CallerInfo,
    CustomActionInfo,
    ExtensionInfo,
    HostInfo,
    InstanceInfo,
    NicInfo,
    OfferingInfo,
    ResourceMapInfo,
    TemplateInfo,
)

__all__ = ["CheckContext", "new_context"]


@dataclass(frozen=True, kw_only=True)
class CheckContext:
    """Everything a check run sends. `secrets` maps a label to a value that must never be printed back."""

    extension: ExtensionInfo
    resource_map: ResourceMapInfo
    host: HostInfo
    instance: InstanceInfo
    caller: CallerInfo
    custom_action: CustomActionInfo
    secrets: dict[str, str]

    def at(self, state: str, *, first_start: bool = False) -> InstanceInfo:
        """The instance in `state`; `first_start` keeps `deployvm=true` in its details."""
        details = dict(self.instance.details)
        if not first_start:
            details.pop("deployvm", None)
        return replace(self.instance, state=state, details=details)


def _nic(device_id: int, *, default: bool, vlan: int) -> NicInfo:
    return NicInfo(
        device_id=device_id,
        nic_uuid=str(uuid.uuid4()),
        network_uuid=str(uuid.uuid4()),
        network_id=200 + device_id,
        default_nic=default,
        network_rate_mbps=200,
        details={"PromiscuousMode": "false", "MacAddressChanges": "true", "ForgedTransmits": "true"},
        mtu=1500,
        network_segment_name=f"D1-A2-Z1-S{200 + device_id}",
        ip=f"10.1.{device_id}.245",
        netmask="255.255.255.0",
        gateway=f"10.1.{device_id}.1",
        mac=f"02:01:00:cc:00:{device_id + 1:02x}",
        dns1="10.0.32.1",
        dns2="8.8.8.8",
        broadcast_type="Vlan",
        broadcast_uri=f"vlan://{vlan}",
        isolation_uri=f"vlan://{vlan}",
    )


def new_context() -> CheckContext:
    """A context whose secrets are random for this run (so finding them in output proves a leak)."""
    planted = {
        "extension secret": secrets.token_hex(16),
        "extension token": secrets.token_hex(12),
        "host password": secrets.token_hex(16),
        "VNC password": secrets.token_hex(8),
    }
    instance = InstanceInfo(
        id=1001,
        uuid=str(uuid.uuid4()),
        account_id=2,
        cpus=2,
        speed=1000,
        ram_mb=1024,
        state="Starting",
        vnc_password=planted["VNC password"],
        details={"deployvm": "true", "External:vm_name": "check-web01", "External:template_id": "9000"},
        nics=(_nic(0, default=True, vlan=1577), _nic(1, default=False, vlan=1600)),
        template=TemplateInfo(details={"External:template_type": "template", "External:template_id": "9000"}),
        offering=OfferingInfo(details={"External:cpu_type": "host"}),
    )
    return CheckContext(
        extension=ExtensionInfo(
            name="check",
            details={
                "url": "192.0.2.10",
                "user": "admin@pve",
                "token": planted["extension token"],
                "secret": planted["extension secret"],
                "orchestratorrequirespreparevm": "true",
            },
        ),
        resource_map=ResourceMapInfo(details={"zone_tag": "east"}),
        host=HostInfo(
            name="host-1",
            details={
                "External:node": "node1",
                "External:username": "root",
                "External:password": planted["host password"],
            },
        ),
        instance=instance,
        caller=CallerInfo(
            id=str(uuid.uuid4()),
            name="admin",
            type="ADMIN",
            role_id=str(uuid.uuid4()),
            role_name="Root Admin",
            role_type="Admin",
        ),
        custom_action=CustomActionInfo(name="SwitchboardCheckAction", details={"purpose": "conformance check"}),
        secrets=planted,
    )
