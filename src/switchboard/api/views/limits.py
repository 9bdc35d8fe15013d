"""Resource limits as CloudStack shows them: a ResourceLimitResponse, and the usage and limit fields that
listAccounts and listDomains add to accounts and domains (ResourceLimitAndCountResponse)."""

from __future__ import annotations

from typing import Any

from switchboard.api.shapes import Field, Shape, T
from switchboard.compute.limits import UNLIMITED, Amounts, ResourceType
from switchboard.db.models.identity import Account, Domain
from switchboard.identity import paths

__all__ = ["LIMIT_FIELDS", "RESOURCE_LIMIT", "limit_fields", "resource_limit_view"]

_PREFIX = {ResourceType.USER_VM: "vm", ResourceType.CPU: "cpu", ResourceType.MEMORY: "memory"}
_SHOWN_UNLIMITED = "Unlimited"
_WHAT = {"vm": "virtual machines", "cpu": "cpu cores", "memory": "memory (in MB)"}

# The usage and limit fields of accounts and domains, in limit_fields' order.
LIMIT_FIELDS: list[Field] = [
    field
    for prefix, what in _WHAT.items()
    for field in (
        Field(f"{prefix}limit", T.STRING, f"the total number of {what} that can be used (Unlimited: no limit)"),
        Field(f"{prefix}total", T.LONG, f"the total number of {what} in use"),
        Field(f"{prefix}available", T.STRING, f"the total number of {what} still available (Unlimited: no limit)"),
    )
] + [
    Field("vmrunning", T.INTEGER, "the total number of virtual machines running"),
    Field("vmstopped", T.INTEGER, "the total number of virtual machines stopped"),
]

RESOURCE_LIMIT = Shape("resourcelimit", [
    Field("account", T.STRING, "the account of the resource limit"),
    Field("domainid", T.STRING, "the domain ID of the resource limit"),
    Field("domain", T.STRING, "the domain name of the resource limit"),
    Field("domainpath", T.STRING, "the domain path of the resource limit"),
    Field("resourcetype", T.STRING, "resource type. Values include 0, 8, 9. See the resourceType parameter for "
          "more information on these values."),
    Field("resourcetypename", T.STRING, "resource type name. Values include user_vm, cpu, memory."),
    Field("max", T.LONG, "the maximum number of the resource. A -1 means the resource currently has no limit."),
])


def limit_fields(limits: dict[ResourceType, int], used: Amounts) -> dict[str, Any]:
    """`vmlimit`, `vmtotal`, `vmavailable`, the same for `cpu` and `memory`, and `vmrunning`/`vmstopped`: a
    limit and what is still available are strings ("Unlimited" for -1), totals are numbers."""
    fields: dict[str, Any] = {}
    for kind, prefix in _PREFIX.items():
        limit, total = limits[kind], used.of(kind)
        fields[f"{prefix}limit"] = _SHOWN_UNLIMITED if limit == UNLIMITED else str(limit)
        fields[f"{prefix}total"] = total
        fields[f"{prefix}available"] = _SHOWN_UNLIMITED if limit == UNLIMITED else str(limit - total)
    fields["vmrunning"] = used.running
    fields["vmstopped"] = used.stopped
    return fields


def resource_limit_view(kind: ResourceType, maximum: int, domain: Domain, account: Account | None) -> dict[str, Any]:
    """CloudStack's ResourceLimitResponse of one type for an account (with its domain) or a domain."""
    body: dict[str, Any] = {}
    if account is not None:
        body["account"] = account.name
    body.update({
        "domainid": domain.uuid,
        "domain": domain.name,
        "domainpath": paths.shown(domain.path),
        "resourcetype": str(kind.number),
        "resourcetypename": kind.wire_name,
        "max": maximum,
    })
    return body
