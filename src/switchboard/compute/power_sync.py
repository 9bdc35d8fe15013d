"""Power sync: ask each Up host's extension what its instances' power is, and reconcile the database.

One round (`run_once`), on the one server holding the `power-sync` lease (held by the server's run, so a
server restarted after a crash, or the survivor of a dead one, takes it over at once; see lease.py):

1. read the Up hosts of External clusters whose extension is usable, and their Running / Stopped
   instances (placed there, or last there when stopped), leaving out those with a pending job or an
   extension run not yet settled: as CloudStack, reports for an instance with work under way are postponed
   (a MAAS reboot powers the machine off for a while; that is not a stop);
2. per host, concurrently, the bulk `statuses` action (host-level payload; answer
   `{"status": "success", "power_state": {"<internal name>": "poweron"|"poweroff"|"unknown"}}`);
3. `status` per instance, at most `power_sync_concurrency` at a time, for the instances of hosts whose
   extension does not implement `statuses` (non-zero exit, e.g. `{"error":"Invalid action"}`, or no
   `power_state` map) - such an extension is asked per instance only, for `statuses_retry` seconds, before
   `statuses` is tried again - and for the instances a `statuses` answer did not name (an extension that
   keys its answer by other names);
4. reconcile in one transaction, skipping instances an operation moved meanwhile (`updated` changed) or
   that got work under way: a Running instance reported PowerOff twice in a row becomes Stopped, a Stopped
   one reported PowerOn becomes Running (CloudStack follows the agent's PowerOn report), each with an event
   that says what happened - "outside Switchboard", unless Switchboard's own last run on the instance was
   lost and this is its effect; PowerOn resets the PowerOff count; PowerUnknown changes nothing. The
   reported power state is recorded for the others.

Values are read as §1.3/§2.7 say (case-insensitive `PowerOn`/`PowerOff`, anything else PowerUnknown).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import Row, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from switchboard.compute import lease, states
from switchboard.compute.lifecycle import Lifecycle
from switchboard.compute.runs import unsettled_instances
from switchboard.compute.settings import ComputeSettings
from switchboard.db.base import utcnow
from switchboard.db.engine import Database
from switchboard.db.models.compute import ExtensionRun, Instance, RunOutcome
from switchboard.db.models.compute import InstanceState as S
from switchboard.db.models.infrastructure import Cluster, Host, HostStatus
from switchboard.db.models.jobs import AsyncJob
from switchboard.db.outage import report_failure
from switchboard.errors import SwitchboardError
from switchboard.extensions.paths import ExtensionRoots
from switchboard.extensions.payload import lifecycle_payload, statuses_payload
from switchboard.extensions.payload_inputs import HostTarget, host_target, instance_infos
from switchboard.extensions.payload_model import InstanceInfo, PowerState
from switchboard.extensions.power import parse_power_state, parse_power_states
from switchboard.extensions.runner import ExtensionRunner
from switchboard.infra.clusters import EXTERNAL
from switchboard.infra.events import ActorIds, record_event
from switchboard.jobs import JobStatus, ServerRun
from switchboard.jobs.repository import database_now

__all__ = ["LEASE", "PowerSync", "SyncReport"]

log = logging.getLogger(__name__)

LEASE = "power-sync"
_SYNCED = (S.RUNNING.value, S.STOPPED.value)
_BATCH = 500


@dataclass
class SyncReport:
    """What one round did: hosts asked, instances reported, how (bulk or per instance), what changed."""

    hosts: int = 0
    instances: int = 0
    bulk_hosts: int = 0
    fallback_instances: int = 0
    postponed: int = 0  # instances with work under way, not asked or not changed
    stopped: list[str] = field(default_factory=list)  # uuids of instances turned Stopped
    started: list[str] = field(default_factory=list)  # uuids of instances turned Running


@dataclass(frozen=True)
class _Seen:
    id: int
    uuid: str
    name: str
    state: str
    updated: int
    host_id: int


class PowerSync:
    """The power-sync loop of one server. `start()` runs a round every `power_sync_interval` seconds on a
    daemon thread; `run_once()` runs one round now (tests, benchmarks); `stop()` ends the loop."""

    def __init__(self, *, db: Database, runner: ExtensionRunner, roots: ExtensionRoots, settings: ComputeSettings,
                 lifecycle: Lifecycle, owner: Callable[[], ServerRun | None], heartbeat_timeout: float) -> None:
        self._db = db
        self._runner = runner
        self._roots = roots
        self._settings = settings
        self._lifecycle = lifecycle
        self._owner = owner  # the lease's holder is this server's run: a dead run's lease is free at once
        self._heartbeat_timeout = heartbeat_timeout
        self._no_statuses: dict[str, float] = {}  # extension name → monotonic time to try `statuses` again
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="power-sync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        own = self._owner()
        if own is None:
            return
        try:
            with self._db.session() as session:
                lease.release(session, LEASE, own.runid)
        except SQLAlchemyError as exc:
            report_failure(log, exc, "power sync: could not release the lease")

    def _loop(self) -> None:
        while not self._stopping.wait(self._settings.power_sync_interval):
            try:
                self.run_once()
            except Exception as exc:  # the loop's boundary: one bad round must not end power sync for good
                report_failure(log, exc, "power sync round failed; next round in %s s",
                            self._settings.power_sync_interval)

    def statuses_unsupported(self, extension_name: str) -> bool:
        """True while `extension_name` is remembered as not implementing `statuses`."""
        until = self._no_statuses.get(extension_name)
        return until is not None and time.monotonic() < until

    def run_once(self, *, require_lease: bool = True) -> SyncReport | None:
        """One round; None when another server holds the lease. Raises SQLAlchemyError on database trouble."""
        with self._lock:
            if require_lease:
                own = self._owner()
                if own is None:  # not registered yet: no run to hold the lease
                    return None
                with self._db.session() as session:
                    live_since = database_now(session) - dt.timedelta(seconds=self._heartbeat_timeout)
                    if not lease.acquire(session, LEASE, own.runid, self._settings.lease_ttl, live_since=live_since):
                        return None
            with self._db.session() as session:
                targets, seen, postponed = _read(session)
            report = SyncReport(hosts=len(targets), instances=sum(len(v) for v in seen.values()),
                                postponed=postponed)
            if not targets:
                return report
            reports = asyncio.run(self._ask(targets, seen, report))
            with self._db.session() as session:
                self._apply(session, seen, reports, report)
            return report

    # -- asking ---------------------------------------------------------------------------------------------

    async def _ask(self, targets: dict[int, HostTarget], seen: dict[int, list[_Seen]],
                   report: SyncReport) -> dict[int, PowerState]:
        hosts = [h for h in targets if seen.get(h)]
        answers = await asyncio.gather(*(self._bulk(targets[h], seen[h]) for h in hosts))
        found: dict[int, PowerState] = {}
        fallback: list[int] = []
        missed: list[_Seen] = []  # instances a `statuses` answer did not name
        for host_id, answer in zip(hosts, answers, strict=True):
            if answer is None:
                fallback.append(host_id)
                continue
            report.bulk_hosts += 1
            for item in seen[host_id]:
                if item.name in answer:
                    found[item.id] = answer[item.name]
                else:
                    missed.append(item)
        if fallback or missed:
            items = [item for host_id in fallback for item in seen[host_id]] + missed
            with self._db.session() as session:
                infos = self._infos(session, [item.id for item in items])
            gate = asyncio.Semaphore(self._settings.power_sync_concurrency)
            results = await asyncio.gather(*(self._single(gate, targets[item.host_id], infos[item.id])
                                             for item in items if item.id in infos))
            for item, state in zip((i for i in items if i.id in infos), results, strict=True):
                found[item.id] = state
            report.fallback_instances += len(results)
        return found

    async def _bulk(self, target: HostTarget, items: list[_Seen]) -> dict[str, PowerState] | None:
        if self.statuses_unsupported(target.extension_name):
            return None
        payload = statuses_payload(extension=target.extension, resource_map=target.resource_map, host=target.host)
        result = await self._runner.run(
            extension_name=target.extension_name, entry=self._roots.entry_point(target.relative_path),
            action="statuses", payload=payload, timeout=self._lifecycle.actions.timeout(),
        )
        answer = parse_power_states(result.success, result.output)
        if answer is None and not result.timed_out:
            log.info("power sync: extension %s does not implement statuses; asking per instance for %s s",
                     target.extension_name, self._settings.statuses_retry)
            self._no_statuses[target.extension_name] = time.monotonic() + self._settings.statuses_retry
        return answer

    async def _single(self, gate: asyncio.Semaphore, target: HostTarget, info: InstanceInfo) -> PowerState:
        payload = lifecycle_payload("status", extension=target.extension, resource_map=target.resource_map,
                                    host=target.host, instance=info)
        async with gate:
            result = await self._runner.run(
                extension_name=target.extension_name, entry=self._roots.entry_point(target.relative_path),
                action="status", payload=payload, timeout=self._lifecycle.actions.timeout(),
            )
        return parse_power_state(result.success, result.output)

    def _infos(self, session: Session, ids: list[int]) -> dict[int, InstanceInfo]:
        infos: dict[int, InstanceInfo] = {}
        for chunk in _chunks(ids):
            rows = session.execute(select(Instance).where(Instance.id.in_(chunk))).scalars().all()
            infos.update(instance_infos(session, rows, unseal=self._lifecycle.unseal_vnc))
        return infos

    # -- reconciling ----------------------------------------------------------------------------------------

    def _apply(self, session: Session, seen: dict[int, list[_Seen]], reports: dict[int, PowerState],
               report: SyncReport) -> None:
        snapshot = {item.id: item for items in seen.values() for item in items}
        now = utcnow()
        busy = _busy(session)  # work may have begun while we asked: its outcome wins, the report waits
        for chunk in _chunks([i for i, state in reports.items() if state is not PowerState.POWER_UNKNOWN]):
            for instance in session.execute(select(Instance).where(Instance.id.in_(chunk))).scalars():
                before = snapshot[instance.id]
                if instance.updated != before.updated or instance.state != before.state or instance.removed:
                    continue  # an operation moved it since we asked: its own outcome wins
                if instance.id in busy:
                    report.postponed += 1
                    continue
                power = reports[instance.id]
                if instance.state == S.RUNNING.value and power is PowerState.POWER_OFF:
                    if instance.power_off_reports + 1 >= 2:
                        states.move(session, instance, S.STOPPED, host_id=None, last_host_id=before.host_id,
                                    power_state=power.value, power_state_updated=now)
                        _event(session, instance, "VM.STOP", _stopped_text(session, instance))
                        report.stopped.append(instance.uuid)
                    else:
                        instance.power_off_reports += 1
                        instance.power_state, instance.power_state_updated = power.value, now
                elif instance.state == S.STOPPED.value and power is PowerState.POWER_ON:
                    states.move(session, instance, S.RUNNING, host_id=before.host_id, last_host_id=before.host_id,
                                power_state=power.value, power_state_updated=now)
                    _event(session, instance, "VM.START", _started_text(session, instance))
                    report.started.append(instance.uuid)
                elif instance.power_state != power.value or instance.power_off_reports:
                    instance.power_state, instance.power_state_updated = power.value, now
                    instance.power_off_reports = 0


def _event(session: Session, instance: Instance, type_: str, description: str) -> None:
    record_event(session, type=type_, resource_type="VirtualMachine", resource_uuid=instance.uuid,
                 description=description, actor=ActorIds(account_id=instance.account_id, domain_id=instance.domain_id))


def _last_run(session: Session, instance_id: int) -> Row[str, str | None, str] | None:
    return session.execute(
        select(ExtensionRun.action, ExtensionRun.outcome, ExtensionRun.started_by)
        .where(ExtensionRun.instance_id == instance_id).order_by(ExtensionRun.id.desc()).limit(1)
    ).first()


def _stopped_text(session: Session, instance: Instance) -> str:
    last = _last_run(session, instance.id)
    if last is not None and last.action == "stop" and last.outcome == RunOutcome.LOST.value:
        return (f"Instance {instance.name} is stopped: the extension reported PowerOff twice in a row after the "
                f"stop management server {last.started_by} ran, whose outcome was lost when that server stopped")
    return f"Instance {instance.name} was stopped outside Switchboard: the extension reported PowerOff twice in a row"


def _started_text(session: Session, instance: Instance) -> str:
    last = _last_run(session, instance.id)
    if last is not None and last.action in ("start", "create") and last.outcome == RunOutcome.LOST.value:
        return (f"Instance {instance.name} is running: the extension reported PowerOn after the {last.action} "
                f"management server {last.started_by} ran, whose outcome was lost when that server stopped")
    return f"Instance {instance.name} was started outside Switchboard: the extension reported PowerOn"


def _busy(session: Session) -> set[int]:
    """Instances with work under way: a pending or running job, or an extension run not yet settled."""
    pending = select(AsyncJob.instance_id).where(
        AsyncJob.status.in_((JobStatus.PENDING.value, JobStatus.IN_PROGRESS.value)),
        AsyncJob.instance_type == "VirtualMachine")
    with_jobs = set(session.execute(select(Instance.id).where(Instance.uuid.in_(pending))).scalars())
    return with_jobs | unsettled_instances(session)


def _read(session: Session) -> tuple[dict[int, HostTarget], dict[int, list[_Seen]], int]:
    """The usable Up hosts, by host the instances to ask about, and how many were left out for work under
    way (a few queries plus a few per host)."""
    host_ids = session.execute(
        select(Host.id).join(Cluster, Cluster.id == Host.cluster_id)
        .where(Host.removed.is_(None), Host.status == HostStatus.UP.value, Host.hypervisor_type == EXTERNAL,
               Cluster.extension_id.is_not(None), Cluster.removed.is_(None))
        .order_by(Host.id)
    ).scalars().all()
    targets: dict[int, HostTarget] = {}
    for host_id in host_ids:
        try:
            targets[host_id] = host_target(session, host_id)
        except SwitchboardError as exc:  # disabled or not ready: nothing may run there now
            log.debug("power sync: skipping host %s: %s", host_id, exc)
    seen: dict[int, list[_Seen]] = {host_id: [] for host_id in targets}
    busy = _busy(session)
    postponed = 0
    placed = func.coalesce(Instance.host_id, Instance.last_host_id)
    for chunk in _chunks(list(targets)):
        rows = session.execute(
            select(Instance.id, Instance.uuid, Instance.instance_name, Instance.state, Instance.updated, placed)
            .where(placed.in_(chunk), Instance.removed.is_(None), Instance.state.in_(_SYNCED))
            .order_by(Instance.id)
        ).all()
        for row in rows:
            if row[0] in busy:
                postponed += 1
                continue
            seen[row[5]].append(_Seen(id=row[0], uuid=row[1], name=row[2] or "", state=row[3], updated=row[4],
                                      host_id=row[5]))
    return targets, seen, postponed


def _chunks(ids: Iterable[int]) -> list[list[int]]:
    items = list(ids)
    return [items[i:i + _BATCH] for i in range(0, len(items), _BATCH)]
