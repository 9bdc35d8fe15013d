"""Fixtures for the job machinery: a migrated database and the pieces of a job system built on it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import delete

from switchboard.db.engine import Database
from switchboard.db.migrate import upgrade
from switchboard.db.models.jobs import AsyncJob, ManagementServer
from switchboard.errors import SwitchboardError
from switchboard.jobs import Executor, JobHandlers, JobRuntime, JobService, JobSettings, Waker
from tests.support.fixtures import fresh_database


def error_to_result(exc: Exception) -> tuple[int, dict[str, Any]]:
    """The test's own mapping: distinguishes domain errors (400) from anything else (500)."""
    code = 400 if isinstance(exc, SwitchboardError) else 500
    return code, {"errorcode": code, "errortext": str(exc)}


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """One migrated database (SQLite, or PostgreSQL when configured) for all job unit tests: migrating a
    fresh one per test would cost more than the tests."""
    with fresh_database(tmp_path_factory.mktemp("jobs-db")) as url:
        database = Database.from_url(url)
        upgrade(database.engine)
        yield database
        database.dispose()


@pytest.fixture
def db(migrated_db: Database) -> Database:
    """The shared database with no jobs and no servers in it."""
    with migrated_db.session() as session:
        session.execute(delete(AsyncJob))
        session.execute(delete(ManagementServer))
    return migrated_db


class JobSystem:
    """One "server" in this process: handlers, service and runtime sharing one waker."""

    def __init__(self, db: Database, *, name: str = "test-ms", server_uuid: str | None = None,
                 settings: JobSettings | None = None) -> None:
        self.db = db
        self.handlers = JobHandlers()
        self.waker = Waker()
        self.settings = settings or JobSettings(workers=2, poll_interval=0.2, heartbeat_interval=0.3,
                                                heartbeat_timeout=1.5, shutdown_grace=5)
        self.service = JobService(handlers=self.handlers, waker=self.waker,
                                  heartbeat_timeout=self.settings.heartbeat_timeout)
        self.server_uuid = server_uuid or str(uuid.uuid4())
        self.name = name
        self.runtime = self.new_runtime()

    def new_runtime(self) -> JobRuntime:
        return JobRuntime(
            db=self.db,
            handlers=self.handlers,
            executor=Executor(db=self.db, handlers=self.handlers, error_to_result=error_to_result,
                              retry_delay=0.1),
            waker=self.waker,
            settings=self.settings,
            server_uuid=self.server_uuid,
            server_name=self.name,
        )


@pytest.fixture
def system(db: Database) -> Iterator[JobSystem]:
    built = JobSystem(db)
    yield built
    built.runtime.stop()
