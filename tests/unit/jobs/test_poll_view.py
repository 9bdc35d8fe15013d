"""The poll's job view, read straight off the DB-API cursor, equals the view SQLAlchemy's execution gives,
field by field, for jobs in every shape a poll sees (pending without a server, claimed, finished with a
result, failed with an error, unknown)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from switchboard.db.engine import Database
from switchboard.db.models.jobs import AsyncJob, ManagementServer
from switchboard.jobs import JobStatus
from switchboard.jobs.queries import _BY_UUID, _view, get_view

pytestmark = pytest.mark.database

AT = dt.datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=dt.UTC)


def _jobs(db: Database) -> list[str]:
    with db.session() as session:
        server = ManagementServer(name="ms-poll", runid="run-1", status="Up")
        session.add(server)
        session.flush()
        jobs = [
            AsyncJob(command="deployVirtualMachine", handler="h", args={}, status=JobStatus.PENDING.value),
            AsyncJob(command="stopVirtualMachine", handler="h", args={"id": "x"}, status=JobStatus.IN_PROGRESS.value,
                     owner_server_id=server.id, progress=40, user_id=3, user_uuid="u-3", user_name="bob",
                     account_id=7, account_uuid="a-7", account_name="alice", domain_id=2, domain_uuid="d-2",
                     domain_path="/sub/", role_type="User", instance_type="VirtualMachine", instance_id="vm-9",
                     created=AT),
            AsyncJob(command="startVirtualMachine", handler="h", args={}, status=JobStatus.SUCCEEDED.value,
                     owner_server_id=server.id, result={"virtualmachine": {"id": "vm", "nics": [1, True, None],
                                                                             "name": "ü"}},
                     created=AT, completed=AT + dt.timedelta(seconds=3)),
            AsyncJob(command="rebootVirtualMachine", handler="h", args={}, status=JobStatus.FAILED.value,
                     result_code=530, result={"errorcode": 530, "errortext": "boom", "uuidList": []},
                     completed=AT),
        ]
        session.add_all(jobs)
        session.flush()
        return [job.uuid for job in jobs]


def test_the_poll_view_equals_sqlalchemys_field_by_field(db: Database) -> None:
    uuids = _jobs(db)
    with db.kept_connection() as connection:
        for uuid in [*uuids, "00000000-0000-0000-0000-000000000000"]:
            row = connection.execute(_BY_UUID, {"uuid": uuid}).first()
            expected = None if row is None else _view(row)
            view = get_view(connection, uuid)
            if expected is None:
                assert view is None
                continue
            assert view is not None
            for field in dataclasses.fields(view):
                mine, theirs = getattr(view, field.name), getattr(expected, field.name)
                assert mine == theirs and type(mine) is type(theirs), field.name
    with db.kept_connection() as connection:
        claimed = get_view(connection, uuids[1])
        finished = get_view(connection, uuids[2])
    assert claimed is not None and finished is not None
    assert (claimed.server_name, claimed.owner.domain_path, claimed.created) == ("ms-poll", "/sub/", AT)
    assert claimed.status is JobStatus.IN_PROGRESS and claimed.progress == 40
    assert finished.result == {"virtualmachine": {"id": "vm", "nics": [1, True, None], "name": "ü"}}
    assert finished.completed == AT + dt.timedelta(seconds=3)
