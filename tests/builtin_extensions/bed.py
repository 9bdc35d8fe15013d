"""A built-in extension run the way the server runs it, with payloads shaped by Switchboard's own payload
builders, against a stand-in server: the details the operator gave (extension, cluster, host) and helpers
to run an action and read the calls it made.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from switchboard.extensions.payload import LIFECYCLE_ACTIONS, custom_action_payload, lifecycle_payload, statuses_payload
from switchboard.extensions.payload_model import (
    CustomActionInfo,
    ExtensionInfo,
    HostInfo,
    InstanceInfo,
    ResourceMapInfo,
)
from tests.builtin_extensions.standin import ExtensionRun, HttpsStandin, Request, run_extension

__all__ = ["Bed", "with_details", "with_template"]


@dataclass
class Bed:
    """`entry` (a built-in's executable) and the stand-in `server` it is pointed at."""

    entry: Path
    server: HttpsStandin
    payloads: Path
    instance: InstanceInfo
    extension: dict[str, str] = field(default_factory=dict)
    cluster: dict[str, str] = field(default_factory=dict)
    host: dict[str, str] = field(default_factory=dict)

    def payload(self, action: str, instance: InstanceInfo | None = None, *,
                parameters: dict[str, Any] | None = None) -> dict[str, Any]:
        groups: dict[str, Any] = {
            "extension": ExtensionInfo(name=self.entry.parent.name, details=self.extension),
            "resource_map": ResourceMapInfo(details=self.cluster),
            "host": HostInfo(name="host-1", details={f"External:{k}": v for k, v in self.host.items()}),
        }
        if action == "statuses":
            return statuses_payload(**groups)
        if action in LIFECYCLE_ACTIONS:
            return lifecycle_payload(action, instance=instance or self.instance, **groups)
        return custom_action_payload(action=CustomActionInfo(name=action), parameters=parameters,
                                     instance=instance or self.instance, **groups)

    def run(self, action: str, instance: InstanceInfo | None = None, *, parameters: dict[str, Any] | None = None,
            timeout: int = 20) -> ExtensionRun:
        return run_extension(self.entry, action, self.payload(action, instance, parameters=parameters),
                             payloads=self.payloads, timeout=timeout)

    def requests(self) -> list[Request]:
        """The requests the stand-in received since the last look (then forgotten)."""
        return self.server.take_calls()


def with_details(instance: InstanceInfo, **details: str) -> InstanceInfo:
    """`instance` with more (or, given "", fewer) stored details."""
    merged = {**instance.details, **details}
    return replace(instance, details={k: v for k, v in merged.items() if v != ""})


def with_template(instance: InstanceInfo, **details: str) -> InstanceInfo:
    """`instance` whose template carries exactly these `External:` details."""
    return replace(instance, template=replace(instance.template,
                                              details={f"External:{k}": v for k, v in details.items()}))
