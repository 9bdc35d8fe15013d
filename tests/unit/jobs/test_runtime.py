"""The runtime in this process: workers run handlers, outcomes are recorded, orphans are failed and
repaired, and a clean stop marks the server Down."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import threading
import uuid
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import OperationalError

from switchboard.db.base import utcnow
from switchboard.db.engine import Database, is_postgres
from switchboard.db.models.jobs import AsyncJob, ManagementServer
from switchboard.db.outage import OUT_OF_SPACE, explain
from switchboard.errors import Conflict
from switchboard.jobs import JobContext, JobSettings, JobSpec, JobStatus, JobView, repository
from switchboard.jobs.notify import CHANNEL
from tests.support.eventually import eventually
from tests.unit.jobs.conftest import JobSystem

pytestmark = pytest.mark.database


def _submit(system: JobSystem, handler: str, args: dict[str, Any] | None = None) -> str:
    with system.db.session() as session:
        return system.service.submit(session, JobSpec(command="testJob", handler=handler, args=args or {}))


def _finished(system: JobSystem, job_uuid: str) -> JobView | None:
    with system.db.session() as session:
        view = system.service.get(session, job_uuid)
    return view if view is not None and view.status.finished else None


def test_a_worker_runs_the_handler_and_records_its_result_and_progress(system: JobSystem) -> None:
    seen: list[JobContext] = []

    def run(ctx: JobContext) -> dict[str, Any]:
        seen.append(ctx)
        ctx.progress(42)
        return {"thing": {"doubled": ctx.args["n"] * 2}}

    system.handlers.register("double", run)
    system.runtime.start()
    job = _submit(system, "double", {"n": 21})
    view = eventually(lambda: _finished(system, job), what="the job to finish")
    assert view.status is JobStatus.SUCCEEDED
    assert (view.result_code, view.result, view.progress) == (0, {"thing": {"doubled": 42}}, 42)
    assert view.server_name == "test-ms" and view.server_uuid == system.server_uuid
    assert view.completed is not None and view.completed >= view.created
    assert seen[0].job_uuid == job and seen[0].interruption is None


def test_handler_failures_finish_the_job_as_failed_with_the_mapped_error(system: JobSystem) -> None:
    def conflict(ctx: JobContext) -> dict[str, Any]:
        raise Conflict("the instance is already running")

    def broken(ctx: JobContext) -> dict[str, Any]:
        raise KeyError("oops")

    system.handlers.register("conflict", conflict)
    system.handlers.register("broken", broken)
    system.handlers.register("not-json", lambda ctx: {"when": dt.datetime.now()})
    system.handlers.register("not-a-dict", lambda ctx: ["a"])  # type: ignore[arg-type,return-value]
    system.runtime.start()
    jobs = {name: _submit(system, name) for name in ("conflict", "broken", "not-json", "not-a-dict")}
    views = {name: eventually(lambda j=job: _finished(system, j), what=name) for name, job in jobs.items()}
    assert {name: view.status for name, view in views.items()} == dict.fromkeys(jobs, JobStatus.FAILED)
    assert views["conflict"].result == {"errorcode": 400, "errortext": "the instance is already running"}
    assert views["conflict"].result_code == 400
    assert views["broken"].result_code == 500
    assert "not JSON" in views["not-json"].result["errortext"]  # type: ignore[index]
    assert "not a JSON object" in views["not-a-dict"].result["errortext"]  # type: ignore[index]


def test_a_restarted_server_fails_its_previous_runs_jobs_and_runs_their_recovery_hook(db: Database) -> None:
    repaired: list[JobContext] = []
    before = JobSystem(db, name="ms-a")
    before.handlers.register("deploy", lambda ctx: {}, on_interrupted=repaired.append)
    job = _submit(before, "deploy", {"vm": "vm-1"})
    # The previous run claimed the job and died without a trace (no runtime: nothing finishes it).
    with db.session() as session:
        dead = repository.register_server(session, uuid=before.server_uuid, name="ms-a", runid=str(uuid.uuid4()),
                                          now=utcnow())
    with db.session() as session:
        assert repository.claim_next(session, run=dead, handlers=["deploy"], now=utcnow()) is not None

    after = JobSystem(db, name="ms-a", server_uuid=before.server_uuid)
    after.handlers.register("deploy", lambda ctx: {}, on_interrupted=repaired.append)
    try:
        after.runtime.start()
        view = eventually(lambda: _finished(after, job), what="the interrupted job to fail")
    finally:
        after.runtime.stop()
    assert view.status is JobStatus.FAILED
    message = "Job interrupted: management server ms-a stopped while running it"
    assert view.result == {"errorcode": 400, "errortext": message}
    assert [(ctx.job_uuid, ctx.args, ctx.interruption) for ctx in repaired] == [(job, {"vm": "vm-1"}, message)]


def test_jobs_of_a_silent_server_are_taken_over_even_if_the_hook_fails(db: Database) -> None:
    def failing_hook(ctx: JobContext) -> None:
        raise Conflict("the instance vanished")

    rescuer = JobSystem(db, name="rescuer")
    rescuer.handlers.register("start", lambda ctx: {}, on_interrupted=failing_hook)
    job = _submit(rescuer, "start")
    with db.session() as session:
        silent = repository.register_server(session, uuid=str(uuid.uuid4()), name="silent", runid="r-1",
                                            now=utcnow() - dt.timedelta(seconds=30))
    with db.session() as session:
        repository.claim_next(session, run=silent, handlers=["start"], now=utcnow())
    try:
        rescuer.runtime.start()
        view = eventually(lambda: _finished(rescuer, job), what="the orphan to fail")
    finally:
        rescuer.runtime.stop()
    assert view.status is JobStatus.FAILED
    assert view.result["errortext"] == (  # type: ignore[index]
        "Job interrupted: management server silent stopped while running it; recovery failed: the instance vanished"
    )
    assert view.server_name == "rescuer"


def test_a_clean_stop_waits_for_running_jobs_and_marks_the_server_down(system: JobSystem) -> None:
    started, release = threading.Event(), threading.Event()

    def slow(ctx: JobContext) -> dict[str, Any]:
        started.set()
        release.wait(10)
        return {"done": {}}

    system.handlers.register("slow", slow)
    run = system.runtime.start()
    job = _submit(system, "slow")
    assert started.wait(10)
    threading.Timer(0.3, release.set).start()
    system.runtime.stop()
    with system.db.session() as session:
        server = session.get_one(ManagementServer, run.server_id)
        assert server.status == "Down"
        assert system.service.get(session, job).status is JobStatus.SUCCEEDED  # type: ignore[union-attr]


def test_two_servers_share_one_queue_and_run_every_job_once(db: Database) -> None:
    runs: Counter[int] = Counter()
    seen_on: set[str] = set()
    both_seen = threading.Condition()

    def counter(server: str) -> Any:
        def count(ctx: JobContext) -> dict[str, Any]:
            with both_seen:
                runs[ctx.args["n"]] += 1
                seen_on.add(server)
                both_seen.notify_all()
                # Hold each worker until both servers run jobs: a server whose workers are all busy leaves
                # the queue to the other, so both must take part.
                both_seen.wait_for(lambda: len(seen_on) == 2, timeout=15)
            return {"n": {"value": ctx.args["n"]}}

        return count

    servers = [JobSystem(db, name=f"ms-{n}") for n in range(2)]
    for server in servers:
        server.handlers.register("count", counter(server.name))
        server.runtime.start()
    try:
        jobs = [_submit(servers[n % 2], "count", {"n": n}) for n in range(40)]
        eventually(lambda: all(_finished(servers[0], job) for job in jobs), what="all jobs")
    finally:
        for server in servers:
            server.runtime.stop()
    assert runs == Counter(range(40))
    assert seen_on == {"ms-0", "ms-1"}
    with db.session() as session:
        owners = set(session.execute(select(AsyncJob.owner_server_id)).scalars())
    assert len(owners) == 2


def _idle_system(db: Database) -> JobSystem:
    """A server whose workers would poll only once a minute: anything faster is a wake-up."""
    return JobSystem(db, settings=JobSettings(workers=1, poll_interval=60, heartbeat_interval=0.3,
                                              heartbeat_timeout=1.5, shutdown_grace=1))


def test_queueing_a_job_wakes_this_servers_idle_workers(db: Database) -> None:
    system = _idle_system(db)
    system.handlers.register("noop", lambda ctx: {"ok": {}})
    system.runtime.start()
    try:
        job = _submit(system, "noop")
        view = eventually(lambda: _finished(system, job), timeout=30, what="a wake-up well before the next poll")
    finally:
        system.runtime.stop()
    assert view.status is JobStatus.SUCCEEDED


def _listening(db: Database) -> bool:
    with db.engine.connect() as connection:
        return bool(connection.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = :listen"
        ), {"listen": f"LISTEN {CHANNEL}"}).scalar_one())


@pytest.mark.postgresql  # SQLite servers rely on polling: deselected, not skipped, in the SQLite pass
def test_a_job_queued_by_another_server_wakes_idle_workers_on_postgresql(db: Database) -> None:
    assert is_postgres(db.engine)
    worker = _idle_system(db)
    worker.handlers.register("noop", lambda ctx: {"ok": {}})
    submitter = JobSystem(db, name="api-only")  # never started: its own waker wakes nobody here
    submitter.handlers.register("noop", lambda ctx: {})
    worker.runtime.start()
    try:
        # A notification sent before LISTEN is not delivered: wait for the listener's session.
        eventually(lambda: _listening(db), what="the worker's LISTEN session", timeout=30)
        job = _submit(submitter, "noop")
        view = eventually(lambda: _finished(worker, job), timeout=30, what="a NOTIFY wake-up before the next poll")
    finally:
        worker.runtime.stop()
    assert view.status is JobStatus.SUCCEEDED and view.server_name == "test-ms"


def test_finished_jobs_are_deleted_once_expired_and_unfinished_ones_never(system: JobSystem) -> None:
    system.handlers.register("noop", lambda ctx: {})
    old, recent, waiting = (_submit(system, "noop") for _ in range(3))
    now = utcnow()
    with system.db.session() as session:
        session.execute(update(AsyncJob).where(AsyncJob.uuid == old)
                        .values(status="succeeded", completed=now - dt.timedelta(days=2)))
        session.execute(update(AsyncJob).where(AsyncJob.uuid == recent)
                        .values(status="failed", completed=now - dt.timedelta(hours=1)))
    assert system.runtime.purge_once() == 1
    with system.db.session() as session:
        assert set(session.execute(select(AsyncJob.uuid)).scalars()) == {recent, waiting}


def _disk_full() -> OperationalError:
    """What SQLAlchemy raises when SQLite finds its disk full (SQLITE_FULL)."""
    cause = sqlite3.OperationalError("database or disk is full")
    cause.sqlite_errorcode, cause.sqlite_errorname = sqlite3.SQLITE_FULL, "SQLITE_FULL"
    return OperationalError("COMMIT", {}, cause)


def test_a_job_stopped_by_a_database_outage_fails_saying_so_in_one_line(
        system: JobSystem, caplog: pytest.LogCaptureFixture) -> None:
    def blocked(ctx: JobContext) -> dict[str, Any]:
        raise _disk_full()

    system.handlers.register("blocked", blocked)
    system.runtime.start()
    with caplog.at_level(logging.INFO, logger="switchboard.jobs"):
        job = _submit(system, "blocked")
        view = eventually(lambda: _finished(system, job), what="the job to finish")
    assert view.status is JobStatus.FAILED
    assert view.result == {"errorcode": 400, "errortext": explain(OUT_OF_SPACE)}
    lines = [record for record in caplog.records if job in record.getMessage()]
    assert lines and all(record.exc_info is None for record in lines)


def test_an_outcome_the_database_cannot_take_yet_is_recorded_once_it_can(
        system: JobSystem, monkeypatch: pytest.MonkeyPatch) -> None:
    finish = repository.finish
    refusals = [_disk_full(), _disk_full()]

    def full_twice(*args: Any, **kwargs: Any) -> bool:
        if refusals:
            raise refusals.pop()
        return finish(*args, **kwargs)

    monkeypatch.setattr(repository, "finish", full_twice)
    system.handlers.register("ok", lambda ctx: {"thing": {"done": True}})
    system.runtime.start()
    job = _submit(system, "ok")
    view = eventually(lambda: _finished(system, job), what="the job to finish")
    assert (view.status, view.result) == (JobStatus.SUCCEEDED, {"thing": {"done": True}})
    assert refusals == []
