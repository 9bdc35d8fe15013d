"""Shaping of records into the original agent's response bodies (field names are the wire contract)."""

from __future__ import annotations

from typing import Any

from switchboard.agent.api.deps import AgentContext
from switchboard.agent.model import PowerState
from switchboard.agent.snapshots import SnapshotInfo
from switchboard.agent.state import VmRecord

__all__ = ["details", "list_item", "network_config", "snapshot"]


def _config_file(agent: AgentContext, name: str) -> str:
    return str(agent.service.rt.store.path(name))


def list_item(agent: AgentContext, record: VmRecord, state: PowerState) -> dict[str, Any]:
    return {
        "name": record.name,
        "status": state.wire(),
        "state": state.value,
        "desired_state": record.desired.value,
        "phase": record.phase.value,
        "cpus": record.spec.vcpus,
        "memory_mib": record.spec.memory_mib,
        "nics": len(record.spec.nics),
        "config_file": _config_file(agent, record.name),
        "last_error": record.last_error,
    }


def network_config(agent: AgentContext, record: VmRecord) -> dict[str, Any]:
    options = agent.config.defaults.net.options()
    return {
        "vm_name": record.name,
        "driver": record.network_backend,
        "bridge": options.get("bridge") or options.get("host_bridge"),
        "host_bridge": options.get("host_bridge"),
        "uplink": options.get("uplink"),
        "nics": [
            {
                "device_id": nic.index,
                "mac": nic.mac,
                "ip": nic.ip,
                "netmask": nic.netmask,
                "gateway": nic.gateway,
                "vlan": nic.vlan,
                "mtu": nic.mtu,
            }
            for nic in record.spec.nics
        ],
    }


def _vmm_config(agent: AgentContext, record: VmRecord) -> dict[str, Any]:
    """The VM's configuration in the shape of Firecracker's full config (as the original showed it),
    built from the record; the VMM driver maps it to its own API (Firecracker or QMP)."""
    rt = agent.service.rt
    spec = record.spec
    return {
        "boot-source": {
            "kernel_image_path": str(rt.kernel_path(spec)),
            "boot_args": spec.template.boot_args,
            "initrd_path": str(initrd) if (initrd := rt.initrd_path(spec)) else None,
        },
        "drives": [
            {
                "drive_id": "rootfs" if v.role == "root" else v.role,
                "path_on_host": str(v.path),
                "is_root_device": v.role == "root",
                "is_read_only": v.read_only,
                "cache_type": "Writeback",
            }
            for v in record.volumes
        ]
        + (
            [{"drive_id": "config", "path_on_host": str(rt.config_drives.path(record.name)), "is_root_device": False,
              "is_read_only": True, "cache_type": "Writeback"}]
            if rt.config_drives.exists(record.name)
            else []
        ),
        "machine-config": {"vcpu_count": spec.vcpus, "mem_size_mib": spec.memory_mib, "smt": False},
        "network-interfaces": [
            {"iface_id": n.iface_id, "guest_mac": n.mac, "host_dev_name": n.tap} for n in record.nics
        ],
    }


def details(agent: AgentContext, record: VmRecord, state: PowerState) -> dict[str, Any]:
    rt = agent.service.rt
    spec = record.spec
    root = next((v for v in record.volumes if v.role == "root"), None)
    first_nic = spec.nics[0] if spec.nics else None
    return {
        "status": "success",
        "vm_name": record.name,
        "power_state": state.wire(),
        "state": state.value,
        "desired_state": record.desired.value,
        "phase": record.phase.value,
        "last_error": record.last_error,
        "vmm": rt.vmm.name,
        "vm_config": {
            "cpus": spec.vcpus,
            "memory_mib": spec.memory_mib,
            "kernel_image_path": str(rt.kernel_path(spec)),
            "boot_args": spec.template.boot_args,
        },
        "storage": {
            "driver": record.storage_backend,
            "volume_file": str(root.path) if root else None,
            "device_path": str(root.path) if root else None,
            "cache_type": "Writeback",
            "is_read_only": root.read_only if root else False,
            "size_bytes": root.size_bytes if root else None,
            "size_source": "request" if spec.root_size_bytes else "template",
            "volumes": [
                {"role": v.role, "path": str(v.path), "size_bytes": v.size_bytes, "backend": v.backend}
                for v in record.volumes
            ],
        },
        "network": {
            "interfaces": [
                {"iface_id": n.iface_id, "guest_mac": n.mac, "host_dev_name": n.tap, "vlan": n.vlan, "mtu": n.mtu}
                for n in record.nics
            ],
            "saved_config": network_config(agent, record),
            "uplink": agent.config.defaults.net.options().get("uplink"),
        },
        "paths": {
            "config_file": _config_file(agent, record.name),
            "log_file": str(rt.paths.console_log(record.name)),
            "socket_file": str(rt.paths.vm_run_dir(record.name)),
            "pid_file": None,
            # SSH keys, user data and metadata for the guest; its content is never shown here.
            "config_drive": str(rt.config_drives.path(record.name)) if rt.config_drives.exists(record.name) else None,
        },
        "firecracker_config": _vmm_config(agent, record),
        "payload": {
            "source": "cloudstack",
            "cloudstack_vm_id": spec.cloudstack_vm_id,
            "image": spec.template.image,
            "kernel": spec.template.kernel,
            "boot_args": spec.template.boot_args,
            "vlan": first_nic.vlan if first_nic else None,
            "uplink": agent.config.defaults.net.options().get("uplink"),
            "details": {"root_size_bytes": spec.root_size_bytes},
            "nic": {"mac": first_nic.mac, "ip": first_nic.ip, "vlan": first_nic.vlan} if first_nic else {},
            "raw": None,  # the raw payload holds secrets and is never kept
        },
    }


def snapshot(info: SnapshotInfo) -> dict[str, Any]:
    return {"name": info.name, "vm_name": info.vm, "created_at": info.created_at, "size_bytes": info.size_bytes}
