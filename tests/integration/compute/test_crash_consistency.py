"""Fault injection: a management server is SIGKILLed at random moments while instances are deployed,
started, stopped, rebooted and destroyed (with expunge), with a recording extension that keeps a backend of
its own (tests/integration/compute/recording.py). The extension's runs outlive the server, as they do in
production. After every kill and restart, once everything has settled:

* every instance's state matches its machine (Running ↔ on, Stopped ↔ off, Error ↔ none, Destroyed ↔ none
  or off) and none is left Starting, Stopping or Expunging;
* no machine of the backend lacks a live instance row;
* no two runs on one instance overlapped (the extension logged each run's begin and end).

Right after each restart the instance whose deploy was cut short is destroyed with expunge as soon as the
API accepts it (the create/delete overlap of an orphaned create). One server on SQLite, and two servers on
one PostgreSQL database (one of them killed each round), 20 rounds each (`SBT_FAULT_ROUNDS` sets another
number). `SBT_FAULT_SEED` replays a round sequence; each test prints what it did (run pytest with -s to see
it).
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException
from sqlalchemy import func, select

from switchboard.db.engine import Database
from switchboard.db.models.compute import ExtensionRun, Instance, RunState
from switchboard.db.models.events import Event
from switchboard.db.models.infrastructure import Zone
from switchboard.db.models.jobs import AsyncJob
from tests.integration.compute import recording
from tests.integration.compute.env import Bed, build_bed, ok, unique, wait_job
from tests.support.eventually import eventually
from tests.support.fixtures import PG_URL, api_keys_of, cs_client, fresh_database
from tests.support.server import REPO, ServerProcess, free_port

FAULT_ENV = {
    "SWITCHBOARD_EXTENSION_WAIT": "60", "SWITCHBOARD_POWER_SYNC_INTERVAL": "1", "SWITCHBOARD_JOB_WORKERS": "6",
    "SWITCHBOARD_HEARTBEAT_INTERVAL": "0.5", "SWITCHBOARD_HEARTBEAT_TIMEOUT": "3",
    "SWITCHBOARD_JOB_POLL_INTERVAL": "0.2", "SWITCHBOARD_ADMIN_PASSWORD": "sbt-fault-admin",
}
STABLE = ("Running", "Stopped", "Error", "Destroyed")
ROUNDS = int(os.environ.get("SBT_FAULT_ROUNDS", "20"))  # CI-sized; more for a longer hunt


@dataclass
class Cloud:
    """Servers sharing one database and data directory, and a bed whose extension records a backend."""

    servers: list[ServerProcess]
    database_url: str
    bed: Bed = field(init=False)
    rng: random.Random = field(default_factory=random.Random)
    stats: dict[str, int] = field(default_factory=lambda: {"rounds": 0, "kills": 0, "operations": 0})

    keys: dict[str, str] = field(default_factory=dict)
    restarting: ServerProcess | None = None  # has a process, but may not listen yet

    def client(self) -> CloudStack:
        """A client of a server that is up (they share the database, so the keys are the same)."""
        alive = next(server for server in self.servers if server is not self.restarting
                     and server.process and server.process.poll() is None)
        return cs_client(alive, self.keys)

    def rows(self) -> list[Instance]:
        return recording.instances(self.database_url, zone_id=self._zone_id())

    def _zone_id(self) -> int:
        db = Database.from_url(self.database_url)
        try:
            with db.session() as session:
                return int(session.execute(select(Zone.id).where(Zone.uuid == self.bed.zone["id"])).scalar_one())
        finally:
            db.dispose()

    def settled(self) -> bool:
        """Nothing is under way: no unfinished job, no unsettled run, no transitional instance."""
        db = Database.from_url(self.database_url)
        try:
            with db.session() as session:
                jobs = session.execute(select(func.count()).select_from(AsyncJob).where(
                    AsyncJob.status.in_(("pending", "in_progress")))).scalar_one()
                runs = session.execute(select(func.count()).select_from(ExtensionRun).where(
                    ExtensionRun.state == RunState.RUNNING.value)).scalar_one()
        finally:
            db.dispose()
        states = {row.state for row in self.rows() if row.removed is None}
        return jobs == 0 and runs == 0 and states <= set(STABLE) and not recording.unfinished(self.bed.directory)

    def events(self, fragment: str) -> int:
        db = Database.from_url(self.database_url)
        try:
            with db.session() as session:
                return int(session.execute(select(func.count()).select_from(Event).where(
                    Event.description.contains(fragment))).scalar_one())
        finally:
            db.dispose()


@contextmanager
def cloud_of(directory: Path, database_url: str, *, servers: int) -> Iterator[Cloud]:
    data = directory / "data"
    processes = [ServerProcess(data_dir=data, database_url=database_url, env=dict(FAULT_ENV))
                 for _ in range(servers)]
    try:
        for server in processes:
            server.start()
        cloud = Cloud(servers=processes, database_url=database_url, keys=api_keys_of(processes[0]))
        cloud.bed = build_bed(processes[0], cs_client(processes[0], cloud.keys), script=recording.RECORDING,
                              filename="recording.py")
        recording.install(cloud.bed.directory, delay=(0.1, 0.6))
        seed = int(os.environ.get("SBT_FAULT_SEED", str(time.time_ns() % 1_000_000)))
        cloud.rng.seed(seed)
        print(f"\nfault injection seed {seed} (SBT_FAULT_SEED replays it)")
        yield cloud
    finally:
        for server in processes:
            server.stop()
        if "cloud" in locals():
            recording.kill_leftovers(cloud.bed.directory)


def _pool(cloud: Cloud) -> dict[str, list[str]]:
    pool: dict[str, list[str]] = {state: [] for state in STABLE}
    for row in cloud.rows():
        if row.removed is None and row.state in pool:
            pool[row.state].append(row.uuid)
    return pool


def _expunge(client: CloudStack, vm_id: str) -> None:
    """Destroy with expunge as soon as the API accepts it, until the instance is gone."""

    def gone() -> bool:
        listed = client.listVirtualMachines(id=vm_id)
        if not listed:
            return True
        if listed["virtualmachine"][0]["state"] in STABLE:
            with contextlib.suppress(CloudStackApiException):  # refused (its run has not ended): again
                wait_job(client, client.destroyVirtualMachine(id=vm_id, expunge=True)["jobid"], timeout=60)
        return False

    eventually(gone, what=f"instance {vm_id} to be expunged", timeout=90, interval=0.3)


def _deploy(cloud: Cloud, client: CloudStack) -> dict[str, Any]:
    return cloud.bed.deploy(client, name=unique("f"))


def one_round(cloud: Cloud) -> None:
    """Start one operation of each kind, kill a server at a random moment, restart it, check."""
    client = cloud.client()
    pool = _pool(cloud)
    while len(pool["Running"]) < 3:
        pool["Running"].append(ok(client, _deploy(cloud, client))["id"])
    stop, reboot, destroy = cloud.rng.sample(pool["Running"], 3)
    deployed = _deploy(cloud, client)
    client.stopVirtualMachine(id=stop)
    client.rebootVirtualMachine(id=reboot)
    client.destroyVirtualMachine(id=destroy, expunge=True)
    if pool["Stopped"]:
        client.startVirtualMachine(id=cloud.rng.choice(pool["Stopped"]))
        cloud.stats["operations"] += 1
    cloud.stats["operations"] += 4
    time.sleep(cloud.rng.uniform(0.0, 1.0))
    victim = cloud.rng.choice(cloud.servers)
    victim.kill()
    cloud.stats["kills"] += 1
    restart = threading.Thread(target=victim.start)
    if len(cloud.servers) == 1:
        victim.start()
    survivor = cloud.client()
    _expunge(survivor, deployed["id"])  # at once: its create may still be running
    if len(cloud.servers) > 1:
        # The survivor has taken over the victim's jobs and runs; the victim comes back meanwhile.
        eventually(cloud.settled, what="the survivor to settle every run and job", timeout=60, interval=0.2)
        cloud.restarting = victim
        restart.start()
    for vm_id in _pool(cloud)["Error"] + _pool(cloud)["Destroyed"]:
        _expunge(cloud.client(), vm_id)
    eventually(cloud.settled, what="every run and job to be settled", timeout=60, interval=0.2)
    problems = recording.consistency(cloud.bed.directory, cloud.rows())
    assert not problems, f"round {cloud.stats['rounds'] + 1}: {problems}"
    cloud.stats["rounds"] += 1
    if restart.ident is not None:
        restart.join()
        cloud.restarting = None


def _report(cloud: Cloud) -> None:
    runs = recording.runs(cloud.bed.directory)
    taken = cloud.events("after that server stopped") + cloud.events("was lost when that server stopped")
    print(f"{cloud.stats['rounds']} rounds, {cloud.stats['kills']} kills, {cloud.stats['operations']} operations "
          f"cut short, {len(runs)} extension runs; {taken} settled by a successor from the run's outcome, "
          f"{cloud.events('was being deployed when its management server stopped')} deploys cut short before "
          f"anything ran; 0 inconsistencies, 0 overlapping runs")


def test_a_server_killed_at_random_moments_leaves_the_database_saying_what_the_backend_did(tmp_path: Path) -> None:
    with cloud_of(tmp_path, f"sqlite:///{tmp_path / 'switchboard.db'}", servers=1) as cloud:
        for _ in range(ROUNDS):
            one_round(cloud)
        assert recording.machines(cloud.bed.directory)  # the backend really ran machines
        _report(cloud)


def test_two_servers_on_postgresql_one_killed_at_random_moments(tmp_path: Path) -> None:
    with _postgresql(tmp_path) as url, cloud_of(tmp_path, url, servers=2) as cloud:
        for _ in range(ROUNDS):
            one_round(cloud)
        _report(cloud)


@contextmanager
def _postgresql(directory: Path) -> Iterator[str]:
    """The test run's PostgreSQL when there is one, else a throwaway server of this test's own."""
    if PG_URL:
        with fresh_database(directory) as url:
            yield url
        return
    if not shutil.which("su") or not list(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")):
        pytest.fail("needs the PostgreSQL server (apt package postgresql; scripts/ci-deps.sh installs it)")
    # Not under tmp_path: the postgres user must reach it, and pytest's directories are private to root.
    home = Path(tempfile.mkdtemp(prefix="sbt-pg-"))
    pg = ["bash", str(REPO / "scripts" / "pg.sh")]
    url = subprocess.run([*pg, "start", str(home), str(free_port())], capture_output=True, text=True,
                         check=True).stdout.strip()
    try:
        yield url
    finally:
        subprocess.run([*pg, "stop", str(home)], check=False)
        shutil.rmtree(home, ignore_errors=True)
