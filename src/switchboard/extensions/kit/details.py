"""`switchboard ext check --details FILE`: the details of a live backend merged over the check's sample
payloads, so that an extension that must reach a real system (an agent, a Proxmox VE node, a MAAS region,
a Hyper-V host) is checked against it.

FILE is one JSON object; every member is optional:

    {"extension": {...}, "cluster": {...}, "host": {...}, "template": {...}, "offering": {...}, "vm": {...},
     "secrets": {"label": "value", ...}}

`extension`: the extension's details; `cluster`: the details it was registered with to the cluster (the
payload's `resourcemap`); `host`, `template`, `offering`: their external details; `vm`: the instance's
deploy-time external details. Each is a map of detail names to values (numbers and booleans are written as
strings, as CloudStack stores them); a name the sample also has is replaced.

Secrets: a value whose detail name says it is one (it contains password, passwd, secret, token or apikey,
or is `key` / ends in `_key` and holds text rather than a file path) is watched for exactly as the check's
own planted secrets are, and so is every value of `secrets`. Planted secrets whose details the file
replaced are no longer watched (they are no longer sent).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from switchboard.extensions.kit.sample import CheckContext
from switchboard.extensions.payload_model import EXTERNAL_PREFIX, ExtensionInfo, HostInfo, ResourceMapInfo

__all__ = ["GROUPS", "CheckDetails", "DetailsError", "apply_details", "load_details", "secret_name"]

GROUPS = ("extension", "cluster", "host", "template", "offering", "vm")
_SECRET_WORDS = re.compile(r"password|passwd|secret|token|api_?key", re.IGNORECASE)
_KEY_NAME = re.compile(r"(^|_)key$", re.IGNORECASE)


class DetailsError(ValueError):
    """The details file cannot be used; the message says what is wrong with it."""


@dataclass(frozen=True)
class CheckDetails:
    """Detail maps by group (see the module docstring) and extra values to watch for, by label."""

    groups: dict[str, dict[str, str]] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)


def secret_name(name: str, value: str) -> bool:
    """Whether a detail named `name` holding `value` is a secret."""
    if _SECRET_WORDS.search(name):
        return True
    return bool(_KEY_NAME.search(name)) and not value.startswith(("/", "./", "~"))


def _strings(where: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise DetailsError(f"{where} must be an object of names to values")
    found: dict[str, str] = {}
    for name, item in value.items():
        if isinstance(item, bool):
            found[name] = "true" if item else "false"
        elif isinstance(item, str | int | float):
            found[name] = str(item)
        else:
            raise DetailsError(f"{where}.{name} must be a string, a number or a boolean")
    return found


def load_details(path: Path) -> CheckDetails:
    """Read FILE; raises DetailsError naming what is wrong (unreadable, not JSON, unknown group, bad value)."""
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise DetailsError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise DetailsError(f"{path} is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise DetailsError(f"{path} must hold one JSON object")
    unknown = sorted(set(data) - {*GROUPS, "secrets"})
    if unknown:
        raise DetailsError(f"{path}: unknown member(s) {', '.join(unknown)} (known: {', '.join(GROUPS)}, secrets)")
    groups = {group: _strings(group, data[group]) for group in GROUPS if group in data}
    return CheckDetails(groups=groups, secrets=_strings("secrets", data.get("secrets", {})))


def _external(stored: dict[str, str] | Any, given: dict[str, str]) -> dict[str, str]:
    return {**stored, **{EXTERNAL_PREFIX + name: value for name, value in given.items()}}


def apply_details(ctx: CheckContext, details: CheckDetails) -> CheckContext:
    """`ctx` with the file's details merged over its own, and its secrets to watch for updated."""
    groups = details.groups
    extension = ExtensionInfo(name=ctx.extension.name, details={**ctx.extension.details, **groups.get("extension", {})},
                              hidden_details=ctx.extension.hidden_details)
    resource_map = ResourceMapInfo(details={**ctx.resource_map.details, **groups.get("cluster", {})})
    host = HostInfo(name=ctx.host.name, details=_external(dict(ctx.host.details), groups.get("host", {})))
    instance = replace(
        ctx.instance,
        details=_external(dict(ctx.instance.details), groups.get("vm", {})),
        template=replace(ctx.instance.template,
                         details=_external(dict(ctx.instance.template.details), groups.get("template", {}))),
        offering=replace(ctx.instance.offering,
                         details=_external(dict(ctx.instance.offering.details), groups.get("offering", {}))),
    )
    sent = {*extension.details.values(), *resource_map.details.values(), *host.details.values(),
            *instance.details.values(), *instance.template.details.values(), *instance.offering.details.values()}
    watched = {label: value for label, value in ctx.secrets.items()
               if value in sent or value == instance.vnc_password}
    for group, values in groups.items():
        for name, value in values.items():
            if value and secret_name(name, value):
                watched[f"{group} detail {name}"] = value
    watched.update({label: value for label, value in details.secrets.items() if value})
    return replace(ctx, extension=extension, resource_map=resource_map, host=host, instance=instance,
                   secrets=watched)
