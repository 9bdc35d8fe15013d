from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from switchboard.api.call import Call, RequestMeta
from switchboard.api.dispatcher import Dispatcher
from switchboard.api.params import Param, ParamType, RawRequest
from switchboard.api.registry import CommandRegistry, api_command
from switchboard.api.responses import AsyncJobRequest, ListResponse, ObjectResponse
from switchboard.api.services import Services
from switchboard.caller import Caller
from switchboard.db.engine import Database
from switchboard.errors import AuthenticationFailed, Conflict, OperationFailed
from switchboard.roles import ALL_ROLES, RoleType

# The commands these tests register use no service.
NO_SERVICES = cast(Services, SimpleNamespace())


def caller(role: RoleType) -> Caller:
    return Caller(
        user_id=1, user_uuid="u", username="alice", account_id=1, account_uuid="a", account_name="acct",
        domain_id=1, domain_uuid="d", domain_path="/", role_id=1, role_uuid="r", role_name="x", role_type=role,
    )


class KeyAuthenticator:
    """Accepts apikey=admin or apikey=user; anything else fails like a bad signature."""

    def authenticate(self, _db: Any, raw: RawRequest, _meta: RequestMeta) -> Caller:
        key = raw.scalars.get("apikey")
        if key == "admin":
            return caller(RoleType.ADMIN)
        if key == "user":
            return caller(RoleType.USER)
        raise AuthenticationFailed("unable to verify user credentials and/or request signature")


@pytest.fixture
def dispatcher(tmp_path: Path) -> Dispatcher:
    registry = CommandRegistry()

    @api_command("listThings", registry=registry, roles=ALL_ROLES, description="d", is_list=True)
    def list_things(call: Call) -> ListResponse:
        items = [{"id": str(i)} for i in range(5)]
        return ListResponse("thing", items[: call.pagesize or 5])

    @api_command("createThing", registry=registry, description="d",
                 params=[Param("name", ParamType.STRING, required=True)])
    def create_thing(call: Call) -> ObjectResponse:
        if call.get("name") == "dup":
            raise Conflict("Thing by name already exists")
        if call.get("name") == "boom":
            raise RuntimeError("secret internals")
        if call.get("name") == "fail":
            raise OperationFailed("backend said no")
        return ObjectResponse("thing", {"name": call.get("name")})

    @api_command("deployThing", registry=registry, roles=ALL_ROLES, description="d", is_async=True)
    def deploy_thing(_call: Call) -> AsyncJobRequest:
        return AsyncJobRequest("deployThing", {"x": 1}, object_id="obj-1")

    database = Database.from_url(f"sqlite:///{tmp_path / 'db.sqlite'}")
    return Dispatcher(registry=registry, db=database, services=NO_SERVICES, authenticator=KeyAuthenticator(),
                      submit_job=lambda call, request: f"job-for-{request.handler}")


def run(dispatcher: Dispatcher, **pairs: str) -> tuple[int, dict[str, Any]]:
    reply = dispatcher.dispatch(pairs, RequestMeta())
    return reply.status, reply.body


def test_list_envelope_has_count_and_objects(dispatcher: Dispatcher) -> None:
    status, body = run(dispatcher, command="listThings", apikey="user", pagesize="2")
    assert status == 200
    assert body == {"listthingsresponse": {"count": 2, "thing": [{"id": "0"}, {"id": "1"}]}}


def test_unknown_command_is_432(dispatcher: Dispatcher) -> None:
    status, body = run(dispatcher, command="frobnicate", apikey="admin")
    assert status == 432
    error = body["frobnicateresponse"]
    assert error["errorcode"] == 432
    assert "does not exist" in error["errortext"]
    assert error["uuidList"] == []


def test_role_not_allowed_looks_like_unknown_command(dispatcher: Dispatcher) -> None:
    status, body = run(dispatcher, command="createThing", apikey="user", name="x")
    assert status == 432
    assert body["createthingresponse"]["errorcode"] == 432


def test_authentication_failure_is_401(dispatcher: Dispatcher) -> None:
    status, body = run(dispatcher, command="listThings", apikey="nobody")
    assert status == 401
    assert body["listthingsresponse"]["errorcode"] == 401


def test_missing_parameter_is_431_and_named(dispatcher: Dispatcher) -> None:
    status, body = run(dispatcher, command="createThing", apikey="admin")
    assert status == 431
    assert body["createthingresponse"]["cserrorcode"] == 4350
    assert "name" in body["createthingresponse"]["errortext"]


def test_domain_errors_map_to_codes_and_internal_errors_hide_details(dispatcher: Dispatcher) -> None:
    assert run(dispatcher, command="createThing", apikey="admin", name="dup")[0] == 431
    status, body = run(dispatcher, command="createThing", apikey="admin", name="fail")
    assert (status, body["createthingresponse"]["errortext"]) == (530, "backend said no")
    status, body = run(dispatcher, command="createThing", apikey="admin", name="boom")
    assert status == 530
    assert "secret internals" not in body["createthingresponse"]["errortext"]


def test_async_command_answers_with_job_and_object_id(dispatcher: Dispatcher) -> None:
    status, body = run(dispatcher, command="deployThing", apikey="user")
    assert status == 200
    assert body == {"deploythingresponse": {"jobid": "job-for-deployThing", "id": "obj-1"}}


def test_read_only_commands_are_quick_and_others_are_not(dispatcher: Dispatcher) -> None:
    assert dispatcher.is_quick({"command": "listThings"})
    assert not dispatcher.is_quick({"command": "createThing"})
    assert not dispatcher.is_quick({"command": "deployThing"})
    assert not dispatcher.is_quick({"command": "unknown"})
    assert not dispatcher.is_quick({})


def test_session_requests_are_never_quick(dispatcher: Dispatcher) -> None:
    assert not dispatcher.is_quick({"command": "listThings", "sessionkey": "k"})


@pytest.fixture
def noting(tmp_path: Path) -> tuple[Dispatcher, Database]:
    """A dispatcher whose quick (list) commands write a row into `notes`: a read-only session must still
    commit what such a command wrote, and roll it back when the command fails."""
    registry = CommandRegistry()

    @api_command("listNotes", registry=registry, roles=ALL_ROLES, description="d", is_list=True,
                 params=[Param("text", ParamType.STRING, required=True), Param("fail", ParamType.BOOLEAN)])
    def list_notes(call: Call) -> ListResponse:
        call.session.execute(text("INSERT INTO notes (body) VALUES (:body)"), {"body": call.get("text")})
        if call.get("fail"):
            raise OperationFailed("after the write")
        return ListResponse("note", [])

    database = Database.from_url(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with database.engine.begin() as connection:
        connection.execute(text("CREATE TABLE notes (body TEXT)"))
    return Dispatcher(registry=registry, db=database, services=NO_SERVICES, authenticator=KeyAuthenticator()), database


def notes(database: Database) -> list[str]:
    with database.engine.connect() as connection:
        return [row[0] for row in connection.execute(text("SELECT body FROM notes ORDER BY body"))]


def test_quick_command_that_writes_is_committed_and_a_failed_one_rolled_back(
        noting: tuple[Dispatcher, Database]) -> None:
    dispatcher, database = noting
    assert dispatcher.is_quick({"command": "listNotes"})
    assert run(dispatcher, command="listNotes", apikey="user", text="kept")[0] == 200
    assert run(dispatcher, command="listNotes", apikey="user", text="lost", fail="true")[0] == 530
    assert notes(database) == ["kept"]


def test_quick_command_runs_again_once_when_its_kept_connection_was_lost(tmp_path: Path) -> None:
    registry = CommandRegistry()
    connections: list[Any] = []

    @api_command("listOnce", registry=registry, roles=ALL_ROLES, description="d", is_list=True)
    def list_once(call: Call) -> ListResponse:
        connections.append(call.connection)
        if len(connections) == 1:  # as if the database server had restarted under the kept connection
            call.connection.invalidate()
            raise DBAPIError("SELECT 1", None, OSError("server closed the connection"),
                             connection_invalidated=True)
        value = call.connection.execute(text("SELECT 1")).scalar_one()
        return ListResponse("thing", [{"id": str(value)}])

    database = Database.from_url(f"sqlite:///{tmp_path / 'db.sqlite'}")
    dispatcher = Dispatcher(registry=registry, db=database, services=NO_SERVICES, authenticator=KeyAuthenticator())
    assert run(dispatcher, command="listOnce", apikey="user") == (
        200, {"listonceresponse": {"count": 1, "thing": [{"id": "1"}]}})
    assert len(connections) == 2 and connections[1] is not connections[0]
    database.dispose()


def test_undeclared_parameters_are_ignored_and_named_in_the_log(
        dispatcher: Dispatcher, caplog: pytest.LogCaptureFixture) -> None:
    # As CloudStack's ParamGenericValidationWorker: the command runs as if they were not there, and a warning
    # names them (never their values); what every request may carry (signatures, paging, projectid) is not
    # reported.
    with caplog.at_level("WARNING", logger="switchboard.api.dispatcher"):
        status, body = run(dispatcher, command="listThings", apikey="user", pagesize="2", colour="red-secret",
                           signatureversion="3", expires="2030-01-01T00:00:00+0000", projectid="p",
                           response="json", **{"filter[0].key": "k", "filter[0].value": "v"})
    assert status == 200 and body["listthingsresponse"]["count"] == 2
    assert [r.getMessage() for r in caplog.records] == [
        "Received unknown parameters for command listThings. Unknown parameters : colour filter"]
    assert "red-secret" not in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="switchboard.api.dispatcher"):
        assert run(dispatcher, command="listThings", apikey="user", PageSize="1")[0] == 200
    assert caplog.records == []  # declared names match whatever their case


def test_no_capacity_is_533() -> None:
    from switchboard.api.errors import to_wire
    from switchboard.compute.planner import NoCapacity
    from switchboard.errors import InsufficientCapacity

    for error in (NoCapacity("Unable to create a deployment for VM instance i-2-9-VM"),
                  InsufficientCapacity("Insufficient address capacity")):
        wire = to_wire(error)
        assert (wire.errorcode, wire.cserrorcode) == (533, 4325)
