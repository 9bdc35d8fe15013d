"""`GET /v1/host/summary`: the host's names, addresses, CPU, memory and disks (the original's fields)."""

from __future__ import annotations

import socket
from typing import Any

import psutil

__all__ = ["host_summary"]

_SKIP_FS = {"proc", "sysfs", "tmpfs", "devtmpfs", "devpts", "cgroup", "cgroup2", "overlay", "squashfs"}


def _cpu() -> dict[str, Any]:
    freq = psutil.cpu_freq()
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "physical_cores": psutil.cpu_count(logical=False),
        "logical_cores": psutil.cpu_count(logical=True),
        "model": model,
        "current_mhz": freq.current if freq else None,
        "min_mhz": freq.min if freq else None,
        "max_mhz": freq.max if freq else None,
        "load_percent": psutil.cpu_percent(interval=None),
    }


def _disks() -> list[dict[str, Any]]:
    disks = []
    for part in psutil.disk_partitions(all=False):
        if part.fstype in _SKIP_FS:
            continue
        try:
            usage = psutil.disk_usage(part.mountpoint)
        except OSError:
            continue
        disks.append(
            {
                "device": part.device,
                "mountpoint": part.mountpoint,
                "fstype": part.fstype,
                "total_bytes": usage.total,
                "used_bytes": usage.used,
                "free_bytes": usage.free,
                "percent_used": usage.percent,
            }
        )
    return disks


def host_summary() -> dict[str, Any]:
    """The host facts, in the original agent's shape. Reads /proc and the kernel; raises nothing."""
    ips, macs = [], []
    for interface, addresses in psutil.net_if_addrs().items():
        for address in addresses:
            if address.family in (socket.AF_INET, socket.AF_INET6):
                ips.append(
                    {
                        "interface": interface,
                        "address": address.address.split("%")[0],
                        "family": "ipv4" if address.family == socket.AF_INET else "ipv6",
                        "is_loopback": interface == "lo",
                    }
                )
            elif address.family == psutil.AF_LINK:
                macs.append({"interface": interface, "mac": address.address})
    memory = psutil.virtual_memory()
    return {
        "hostname": socket.gethostname(),
        "fqdn": socket.getfqdn(),
        "ip_addresses": ips,
        "mac_addresses": macs,
        "cpu": _cpu(),
        "memory": {
            "total_bytes": memory.total,
            "available_bytes": memory.available,
            "used_bytes": memory.used,
            "percent": memory.percent,
        },
        "disks": _disks(),
    }
