"""The state machine's moves, the compute settings, and the power-sync lease on a real database."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from switchboard.compute import lease
from switchboard.compute.settings import ComputeSettings
from switchboard.compute.states import TRANSITIONS, can_move
from switchboard.db.engine import Database
from switchboard.db.migrate import upgrade
from switchboard.db.models.compute import InstanceState as S
from switchboard.db.models.jobs import ManagementServer
from switchboard.jobs import ServerStatus
from switchboard.jobs.repository import database_now
from tests.support.eventually import eventually


def test_transitional_states_always_have_a_way_back_to_a_stable_state() -> None:
    assert can_move("Starting", S.ERROR) and can_move("Starting", S.STOPPED)
    assert can_move("Stopping", S.RUNNING) and can_move("Stopping", S.STOPPED)
    assert can_move("Expunging", S.DESTROYED)
    assert set(TRANSITIONS) == set(S)


def test_the_machine_refuses_shortcuts() -> None:
    assert can_move("Stopped", S.RUNNING)  # only power sync makes it: the extension reports PowerOn
    assert not can_move("Stopped", S.STOPPING) and not can_move("Stopped", S.EXPUNGING)
    assert not can_move("Running", S.DESTROYED)  # only through Stopping and Stopped
    assert not can_move("Error", S.STARTING)
    assert not can_move("Destroyed", S.RUNNING)


def test_the_power_sync_lease_outlives_several_rounds() -> None:
    assert ComputeSettings(power_sync_interval=0.5).lease_ttl == 30.0
    assert ComputeSettings(power_sync_interval=60).lease_ttl == 180.0


@pytest.mark.database
def test_one_holder_at_a_time_and_a_lapsed_lease_is_taken_over(database_url: str) -> None:
    db = Database.from_url(database_url)
    try:
        upgrade(db.engine)
        with db.session() as session:
            assert lease.acquire(session, "power-sync", "a", ttl=30)
        with db.session() as session:
            assert not lease.acquire(session, "power-sync", "b", ttl=30)
            assert lease.acquire(session, "power-sync", "a", ttl=0.001)  # renewed, lapsing at once

        def taken_over() -> bool:
            with db.session() as session:
                return lease.acquire(session, "power-sync", "b", ttl=30)

        eventually(taken_over, what="b to take over the lapsed lease", timeout=5)
        with db.session() as session:
            lease.release(session, "power-sync", "a")  # not the holder: nothing happens
            assert not lease.acquire(session, "power-sync", "a", ttl=30)
            lease.release(session, "power-sync", "b")
        with db.session() as session:
            assert lease.acquire(session, "power-sync", "a", ttl=30)
    finally:
        db.dispose()


@pytest.mark.database
def test_a_lease_held_by_a_run_no_live_server_has_is_taken_at_once(database_url: str) -> None:
    """A server restarted after a crash (its row has a new run) or the survivor of a server that stopped
    heartbeating takes power sync over without waiting out the lease's time-to-live."""
    db = Database.from_url(database_url)
    try:
        upgrade(db.engine)
        with db.session() as session:
            now = database_now(session)
            session.add(ManagementServer(name="ms-a", runid="run-a1", status=ServerStatus.UP.value,
                                         last_heartbeat=now))
            session.add(ManagementServer(name="ms-b", runid="run-b1", status=ServerStatus.UP.value,
                                         last_heartbeat=now))
        live_since = now - dt.timedelta(seconds=10)
        with db.session() as session:
            assert lease.acquire(session, "power-sync", "run-a1", ttl=300, live_since=live_since)
        with db.session() as session:  # run-a1 is alive: its lease holds
            assert not lease.acquire(session, "power-sync", "run-b1", ttl=300, live_since=live_since)
            session.execute(update(ManagementServer).where(ManagementServer.name == "ms-a").values(runid="run-a2"))
        with db.session() as session:  # ms-a restarted: its old run is gone, and so is the lease it held
            assert lease.acquire(session, "power-sync", "run-a2", ttl=300, live_since=live_since)
        with db.session() as session:  # ms-a stops heartbeating: ms-b takes over once it counts as dead
            stale = now - dt.timedelta(seconds=60)
            session.execute(update(ManagementServer).where(ManagementServer.name == "ms-a")
                            .values(last_heartbeat=stale))
            assert lease.acquire(session, "power-sync", "run-b1", ttl=300, live_since=live_since)
        with db.session() as session:  # without `live_since`, only the time-to-live frees a lease
            assert not lease.acquire(session, "power-sync", "run-a2", ttl=300)
    finally:
        db.dispose()
