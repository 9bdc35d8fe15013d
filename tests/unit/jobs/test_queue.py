"""The queue's data operations: submit in the caller's transaction, claim once, finish, find orphans."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from sqlalchemy import func, select, update

from switchboard.db.base import utcnow
from switchboard.db.engine import Database
from switchboard.db.models.jobs import AsyncJob, ManagementServer
from switchboard.errors import OperationFailed
from switchboard.jobs import JobOwner, JobSpec, JobStatus, ServerRun, repository
from tests.unit.jobs.conftest import JobSystem

pytestmark = pytest.mark.database


def _register(db: Database, name: str = "ms") -> ServerRun:
    with db.session() as session:
        return repository.register_server(session, uuid=str(uuid.uuid4()), name=name, runid=str(uuid.uuid4()),
                                          now=utcnow())


def _queue(db: Database, count: int, handler: str = "noop") -> list[str]:
    with db.session() as session:
        return [repository.insert_job(session, JobSpec(command="testJob", handler=handler, args={"n": n}),
                                      now=utcnow()) for n in range(count)]


def _claim(db: Database, run: ServerRun, handlers: tuple[str, ...] = ("noop",)) -> repository.ClaimedJob | None:
    with db.session() as session:
        return repository.claim_next(session, run=run, handlers=handlers, now=utcnow())


def test_a_submitted_job_exists_only_if_the_request_transaction_commits(system: JobSystem) -> None:
    system.handlers.register("noop", lambda ctx: {})

    class Boom(RuntimeError):
        pass

    with pytest.raises(Boom), system.db.session() as session:
        lost = system.service.submit(session, JobSpec(command="testJob", handler="noop"))
        raise Boom
    owner = JobOwner(user_uuid="u-1", account_id=7, account_uuid="a-1", account_name="alice", domain_path="/")
    with system.db.session() as session:
        kept = system.service.submit(session, JobSpec(command="testJob", handler="noop", owner=owner,
                                                      instance_type="VirtualMachine", instance_id="vm-1"))
    with system.db.session() as session:
        assert system.service.get(session, lost) is None
        view = system.service.get(session, kept)
    assert view is not None
    assert view.status is JobStatus.PENDING
    assert view.owner.account_name == "alice" and view.owner.account_id == 7
    assert (view.instance_type, view.instance_id) == ("VirtualMachine", "vm-1")


def test_submit_refuses_a_handler_that_is_not_registered(system: JobSystem) -> None:
    with pytest.raises(OperationFailed, match="no job handler 'missing'"), system.db.session() as session:
        system.service.submit(session, JobSpec(command="testJob", handler="missing"))


def test_concurrent_claimers_on_several_servers_get_every_job_exactly_once(db: Database) -> None:
    uuids = _queue(db, 60)
    runs = [_register(db, f"ms-{n}") for n in range(3)]
    claimed: list[tuple[str, str]] = []
    lock = threading.Lock()

    def claimer(run: ServerRun) -> None:
        while (job := _claim(db, run)) is not None:
            with lock:
                claimed.append((job.uuid, run.runid))

    threads = [threading.Thread(target=claimer, args=(run,)) for run in runs for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(uuid for uuid, _ in claimed) == sorted(uuids)
    with db.session() as session:
        rows = session.execute(select(AsyncJob.uuid, AsyncJob.owner_runid, AsyncJob.status)).all()
    assert {row.uuid: row.owner_runid for row in rows} == dict(claimed)
    assert {row.status for row in rows} == {JobStatus.IN_PROGRESS.value}


def test_claim_takes_the_oldest_job_and_only_handlers_this_server_knows(db: Database) -> None:
    other = _queue(db, 1, handler="elsewhere")
    first, second = _queue(db, 2)
    run = _register(db)
    claimed = [_claim(db, run), _claim(db, run)]
    assert [job.uuid for job in claimed if job is not None] == [first, second]
    # The first claim saw the second job waiting (so its worker wakes another); the last saw none.
    assert [job.others_waiting for job in claimed if job is not None] == [True, False]
    assert _claim(db, run) is None
    assert _claim(db, run, handlers=()) is None
    assert _claim(db, run, handlers=("elsewhere",)).uuid == other[0]  # type: ignore[union-attr]


def test_the_outcome_of_a_job_taken_over_is_dropped(db: Database) -> None:
    _queue(db, 1)
    slow, rescuer = _register(db, "slow"), _register(db, "rescuer")
    job = _claim(db, slow)
    assert job is not None
    with db.session() as session:
        session.execute(update(ManagementServer).where(ManagementServer.id == slow.server_id)
                        .values(status="Down"))
    with db.session() as session:
        orphans = repository.find_orphans(session, cutoff=utcnow() - dt.timedelta(minutes=1),
                                          own_runid=rescuer.runid)
        assert [o.job_id for o in orphans] == [job.id]
        assert orphans[0].server_name == "slow"
        assert repository.adopt_orphan(session, orphan=orphans[0], run=rescuer, interruption="gone", now=utcnow())
        # A second rescuer loses the race.
        assert not repository.adopt_orphan(session, orphan=orphans[0], run=rescuer, interruption="x", now=utcnow())
    with db.session() as session:
        assert not repository.finish(session, job_id=job.id, runid=slow.runid, status=JobStatus.SUCCEEDED, code=0,
                                     result={"late": {}}, now=utcnow())
        assert repository.finish(session, job_id=job.id, runid=rescuer.runid, status=JobStatus.FAILED, code=530,
                                 result={"errortext": "gone"}, now=utcnow())
    with db.session() as session:
        row = session.get_one(AsyncJob, job.id)
        assert (row.status, row.result, row.interruption) == ("failed", {"errortext": "gone"}, "gone")
        assert row.completed is not None


def test_orphans_are_jobs_of_dead_down_or_restarted_runs_only(db: Database) -> None:
    alive, stale, down, restarted, me = (_register(db, name) for name in ("alive", "stale", "down", "restarted", "me"))
    _queue(db, 5)
    jobs = {run.name: _claim(db, run) for run in (alive, stale, down, restarted, me)}
    now = utcnow()
    with db.session() as session:
        session.execute(update(ManagementServer).where(ManagementServer.id == stale.server_id)
                        .values(last_heartbeat=now - dt.timedelta(seconds=60)))
        session.execute(update(ManagementServer).where(ManagementServer.id == down.server_id).values(status="Down"))
        # A restart re-registers the same server uuid with a new run id.
        repository.register_server(session, uuid=restarted.uuid, name="restarted", runid=str(uuid.uuid4()), now=now)
        # This run's own heartbeat is stale too, but a run never takes its own live jobs away.
        session.execute(update(ManagementServer).where(ManagementServer.id == me.server_id)
                        .values(last_heartbeat=now - dt.timedelta(seconds=60)))
    with db.session() as session:
        orphans = repository.find_orphans(session, cutoff=now - dt.timedelta(seconds=20), own_runid=me.runid)
    assert {o.job_id for o in orphans} == {jobs[name].id for name in ("stale", "down", "restarted")}  # type: ignore[union-attr]


def test_only_pending_jobs_can_be_cancelled(system: JobSystem) -> None:
    system.handlers.register("noop", lambda ctx: {})
    with system.db.session() as session:
        waiting = system.service.submit(session, JobSpec(command="testJob", handler="noop"))
        running = system.service.submit(session, JobSpec(command="testJob", handler="noop"))
    run = _register(system.db)
    with system.db.session() as session:
        session.execute(update(AsyncJob).where(AsyncJob.uuid == running)
                        .values(status="in_progress", owner_runid=run.runid))
    with system.db.session() as session:
        assert system.service.cancel(session, waiting)
        assert not system.service.cancel(session, running)
        assert not system.service.cancel(session, str(uuid.uuid4()))
    with system.db.session() as session:
        assert system.service.get(session, waiting).status is JobStatus.CANCELLED  # type: ignore[union-attr]
        assert session.execute(select(func.count()).select_from(AsyncJob)).scalar_one() == 2
