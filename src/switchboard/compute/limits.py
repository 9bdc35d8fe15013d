"""CloudStack's resource limits on instances: how many an account and a domain may have, with how many CPU
cores and how much memory, and the largest instance any service offering may give.

* Types (CloudStack's numbers and names): user_vm (0), cpu (8), memory (9, MiB). CloudStack's other types
  are valid names in requests but Switchboard has nothing to count for them.
* An account's limit: its own (updateResourceLimit), else `max.account.<type>`; -1 is unlimited. Root
  Admin accounts have no limits and are never checked.
* A domain's limit: its own, else its nearest ancestor's (below ROOT), else `max.domain.<type>`. ROOT has
  none. A domain's usage is that of every account in its subtree.
* Usage: the instances that are not expunged, Destroyed, Expunging or in Error, their vCPUs and memory.
* Checked when an instance is created (deploy) and when a destroyed one is recovered: first the account,
  then each domain from the account's up to below ROOT, with CloudStack's texts (535). The owner's account
  and domain rows are locked first, so that concurrent deploys of one account or domain cannot both pass.
* `vm.serviceoffering.cpu.cores.max` and `vm.serviceoffering.ram.size.max` (0: none) bound every instance's
  size, checked at deploy and again at every start.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from switchboard import configuration
from switchboard.db.models.compute import Instance, InstanceState
from switchboard.db.models.identity import Account, Domain, ResourceLimit, Role
from switchboard.db.models.infrastructure import ServiceOffering
from switchboard.errors import InvalidParameter, LimitExceeded, NotFound
from switchboard.identity import paths
from switchboard.roles import RoleType

__all__ = [
    "ACCOUNT",
    "DOMAIN",
    "OTHER_TYPES",
    "UNLIMITED",
    "Amounts",
    "ResourceType",
    "account_limits",
    "check_instance_size",
    "check_new_instances",
    "check_size",
    "domain_limits",
    "lock_account",
    "usage_by_account",
    "usage_by_domain",
]

UNLIMITED = -1
ACCOUNT, DOMAIN = "account", "domain"  # ResourceLimit.owner_type


class ResourceType(enum.Enum):
    USER_VM = (0, "user_vm", "user.vms")
    CPU = (8, "cpu", "cpus")
    MEMORY = (9, "memory", "memory")

    def __init__(self, number: int, wire_name: str, setting: str) -> None:
        self.number = number
        self.wire_name = wire_name
        self.account_setting = f"max.account.{setting}"
        self.domain_setting = f"max.domain.{setting}"

    @classmethod
    def by_number(cls, number: int) -> ResourceType | None:
        return next((kind for kind in cls if kind.number == number), None)

    @classmethod
    def by_name(cls, name: str) -> ResourceType | None:
        return next((kind for kind in cls if kind.wire_name == name), None)


# CloudStack's resource types that Switchboard does not count.
OTHER_TYPES = {1: "public_ip", 2: "volume", 3: "snapshot", 4: "template", 5: "project", 6: "network", 7: "vpc",
               10: "primary_storage", 11: "secondary_storage"}
_UNCOUNTED_STATES = (InstanceState.DESTROYED.value, InstanceState.EXPUNGING.value, InstanceState.ERROR.value)


@dataclass(frozen=True)
class Amounts:
    """Instances, CPU cores and MiB of memory: what is in use, or what a request asks for."""

    instances: int = 0
    cpus: int = 0
    memory: int = 0
    running: int = 0  # of the instances, how many are Running and how many Stopped (listAccounts shows them)
    stopped: int = 0

    def of(self, kind: ResourceType) -> int:
        return {ResourceType.USER_VM: self.instances, ResourceType.CPU: self.cpus,
                ResourceType.MEMORY: self.memory}[kind]


def _in_state(state: InstanceState) -> Any:
    return func.coalesce(func.sum(case((Instance.state == state.value, 1), else_=0)), 0)


# The usage columns, grouped by whatever owner column a query adds in front.
_USAGE = (func.count(Instance.id), func.coalesce(func.sum(Instance.cpus), 0),
          func.coalesce(func.sum(Instance.memory), 0), _in_state(InstanceState.RUNNING),
          _in_state(InstanceState.STOPPED))


def _amounts(row: Sequence[Any]) -> Amounts:
    return Amounts(*(int(value) for value in row))


def usage_by_account(session: Session, account_ids: Iterable[int]) -> dict[int, Amounts]:
    """What each account uses now (one query)."""
    ids = list(set(account_ids))
    usage = {account_id: Amounts() for account_id in ids}
    if not ids:
        return usage
    rows = session.execute(
        select(Instance.account_id, *_USAGE)
        .where(Instance.account_id.in_(ids), Instance.removed.is_(None), Instance.state.not_in(_UNCOUNTED_STATES))
        .group_by(Instance.account_id))
    for account_id, *amounts in rows:
        usage[account_id] = _amounts(amounts)
    return usage


def usage_by_domain(session: Session, domain_paths: Iterable[str]) -> dict[str, Amounts]:
    """What each domain's subtree uses now, by stored domain path (one query)."""
    wanted = list(set(domain_paths))
    rows = [(path, _amounts(amounts)) for path, *amounts in session.execute(
        select(Domain.path, *_USAGE).join(Domain, Domain.id == Instance.domain_id)
        .where(Instance.removed.is_(None), Instance.state.not_in(_UNCOUNTED_STATES)).group_by(Domain.path))]
    usage: dict[str, Amounts] = {}
    for top in wanted:
        inside = [amounts for path, amounts in rows if paths.in_subtree(path, top)]
        usage[top] = Amounts(*(sum(getattr(a, name) for a in inside) for name in Amounts.__dataclass_fields__))
    return usage


def _stored(session: Session, owner_type: str, owner_ids: Iterable[int]) -> dict[tuple[int, int], int]:
    rows = session.execute(select(ResourceLimit.owner_id, ResourceLimit.type, ResourceLimit.max)
                           .where(ResourceLimit.owner_type == owner_type,
                                  ResourceLimit.owner_id.in_(list(set(owner_ids)))))
    return {(owner_id, kind): int(maximum) for owner_id, kind, maximum in rows}


def _defaults(session: Session, *, domain: bool) -> dict[ResourceType, int]:
    names = {kind: kind.domain_setting if domain else kind.account_setting for kind in ResourceType}
    values = configuration.global_values(session, list(names.values()))
    return {kind: max(UNLIMITED, int(values[name])) for kind, name in names.items()}


def account_limits(session: Session, account_ids: Iterable[int], *, root_admins: Iterable[int] = ()
                   ) -> dict[int, dict[ResourceType, int]]:
    """Each account's limit of each type (Root Admin accounts, named in `root_admins`: unlimited)."""
    ids = list(set(account_ids))
    stored = _stored(session, ACCOUNT, ids)
    defaults = _defaults(session, domain=False)
    unlimited = set(root_admins)
    return {account_id: {kind: UNLIMITED if account_id in unlimited else stored.get((account_id, kind.number),
                                                                                      defaults[kind])
                         for kind in ResourceType} for account_id in ids}


def domain_limits(session: Session, domain_paths: Iterable[str]) -> dict[str, dict[ResourceType, int]]:
    """Each domain's limit of each type, by stored path: its own, else its nearest ancestor's below ROOT,
    else the default; ROOT is unlimited."""
    wanted = list(set(domain_paths))
    chain = {path for top in wanted for path in _ancestors(top)}
    ids = dict(session.execute(select(Domain.path, Domain.id).where(Domain.path.in_(chain),
                                                                   Domain.removed.is_(None))).tuples().all())
    stored = _stored(session, DOMAIN, ids.values())
    defaults = _defaults(session, domain=True)
    limits: dict[str, dict[ResourceType, int]] = {}
    for top in wanted:
        limits[top] = {}
        for kind in ResourceType:
            if top == paths.ROOT_PATH:
                limits[top][kind] = UNLIMITED
                continue
            found = next((stored[(ids[path], kind.number)] for path in _ancestors(top)
                          if path in ids and (ids[path], kind.number) in stored), None)
            limits[top][kind] = defaults[kind] if found is None else found
    return limits


def _ancestors(stored_path: str) -> list[str]:
    """"/a/b/" → ["/a/b/", "/a/"]: the domain and its ancestors below ROOT, nearest first."""
    parts = [part for part in stored_path.split("/") if part]
    return ["/" + "".join(f"{p}/" for p in parts[:depth]) for depth in range(len(parts), 0, -1)]


def lock_account(session: Session, account_id: int) -> None:
    """Lock the account's row for the rest of the transaction with a no-op write: a row lock on PostgreSQL,
    the database's write lock on SQLite (where SELECT ... FOR UPDATE locks nothing). Concurrent requests
    for the account wait here, then see what the first one wrote."""
    session.execute(update(Account).where(Account.id == account_id).values(state=Account.state)
                    .execution_options(synchronize_session=False))


def check_new_instances(session: Session, *, account_id: int, wanted: Amounts) -> None:
    """Raise LimitExceeded (CloudStack's texts) when the account, or a domain above it, would go past a limit
    with `wanted` more. Locks the account's and its domains' rows for the rest of the transaction first."""
    row = session.execute(select(Account, Domain, Role.role_type).join(Domain, Domain.id == Account.domain_id)
                          .join(Role, Role.id == Account.role_id).where(Account.id == account_id)).first()
    if row is None:
        raise NotFound(f"Unable to find account by id {account_id}")
    account, domain, role_type = row
    if role_type == RoleType.ADMIN.wire_name:  # no limits for Root Admin accounts
        return
    chain = _ancestors(domain.path)
    # Concurrent deploys into the same account or domain wait here, then count what the first one created.
    lock_account(session, account_id)
    if chain:
        session.execute(update(Domain).where(Domain.path.in_(chain)).values(level=Domain.level)
                        .execution_options(synchronize_session=False))
    limits = account_limits(session, [account_id])[account_id]
    used = usage_by_account(session, [account_id])[account_id]
    for kind in ResourceType:
        limit, current, requested = limits[kind], used.of(kind), wanted.of(kind)
        if limit != UNLIMITED and current + requested > limit:
            raise LimitExceeded(
                f"Maximum amount of resources of Type = '{kind.wire_name}', tag = 'null' for Account Name = "
                f"{account.name} in Domain Id = {domain.uuid} is exceeded: Account Resource Limit = {limit}, "
                f"Current Account Resource Amount = {current}, Current Account Resource Reservation = 0, "
                f"Requested Resource Amount = {requested}.")
    if not chain:
        return
    domain_uuids = dict(session.execute(select(Domain.path, Domain.uuid).where(Domain.path.in_(chain))).tuples().all())
    by_domain = domain_limits(session, chain)
    domain_used = usage_by_domain(session, chain)
    for path in chain:
        for kind in ResourceType:
            limit, current, requested = by_domain[path][kind], domain_used[path].of(kind), wanted.of(kind)
            if limit != UNLIMITED and current + requested > limit:
                raise LimitExceeded(
                    f"Maximum domain resource limits of Type '{kind.wire_name}' for Domain Id = "
                    f"{domain_uuids[path]} is exceeded: Domain Resource Limit = {limit}, Current Domain Resource "
                    f"Amount = {current}, Current Resource Reservation = 0, Requested Resource Amount = "
                    f"{requested}.")


def check_size(session: Session, *, cpus: int, memory: int, custom: bool) -> None:
    """Raise InvalidParameter (CloudStack's texts) when an instance of `cpus` cores and `memory` MiB is larger
    than vm.serviceoffering.cpu.cores.max / vm.serviceoffering.ram.size.max allow (`custom`: the sizes came
    from a custom offering's deploy-time details)."""
    values = configuration.global_values(session, ["vm.serviceoffering.cpu.cores.max",
                                                   "vm.serviceoffering.ram.size.max"])
    max_cpus = int(values["vm.serviceoffering.cpu.cores.max"]) or 2**31 - 1
    max_memory = int(values["vm.serviceoffering.ram.size.max"]) or 2**31 - 1
    if cpus > max_cpus:
        raise InvalidParameter(f"Invalid cpu cores value, specify a value between 1 and {max_cpus}" if custom else
                               "Invalid cpu cores value, please choose another service offering with cpu cores "
                               f"between 1 and {max_cpus}", parameter="details" if custom else "serviceofferingid")
    if memory > max_memory:
        raise InvalidParameter(f"Invalid memory value, specify a value between 32 and {max_memory}" if custom else
                               "Invalid memory value, please choose another service offering with memory between "
                               f"32 and {max_memory} MB", parameter="details" if custom else "serviceofferingid")


def check_instance_size(session: Session, instance_uuid: str) -> None:
    """`check_size` for an existing instance (before it starts): the maxima may have been lowered, or the
    instance made before they existed."""
    row = session.execute(select(Instance.cpus, Instance.memory, ServiceOffering.cpu, ServiceOffering.ram_size)
                          .join(ServiceOffering, ServiceOffering.id == Instance.service_offering_id)
                          .where(Instance.uuid == instance_uuid)).first()
    if row is not None:
        cpus, memory, fixed_cpus, fixed_memory = row
        check_size(session, cpus=cpus, memory=memory, custom=fixed_cpus is None or fixed_memory is None)
