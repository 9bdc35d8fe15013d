"""The custom-action service on a real database, without a server: list matching of actions without a resource
type, all-or-nothing updates, role-mask visibility, and a fixed number of queries per page."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, select

from switchboard.db.engine import Database
from switchboard.db.migrate import upgrade
from switchboard.db.models.extensions import Extension, ExtensionCustomAction
from switchboard.errors import Conflict, InvalidParameter, NotFound
from switchboard.extensions.custom_actions import service, store
from switchboard.extensions.custom_actions.resources import Viewer
from switchboard.infra.common import Page
from switchboard.roles import RoleType
from tests.support.fixtures import fresh_database

pytestmark = pytest.mark.database

ADMIN = Viewer(role=RoleType.ADMIN, account_id=None, domain_path="ROOT")


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    with fresh_database(tmp_path_factory.mktemp("custom-actions")) as url:
        database = Database.from_url(url)
        upgrade(database.engine)
        yield database
        database.dispose()


@pytest.fixture
def extension(db: Database) -> str:
    name = f"sbt-{uuid.uuid4().hex[:8]}"
    with db.session() as session:
        row = Extension(name=name, relative_path=f"{name}/{name}.sh")
        session.add(row)
        session.flush()
        return row.uuid


def _add(db: Database, extension: str, **fields: Any) -> str:
    with db.session() as session:
        spec = service.NewAction(extension_uuid=extension, name=fields.pop("name", f"a-{uuid.uuid4().hex[:6]}"),
                                 **fields)
        return service.add_action(session, spec).uuid


def _names(db: Database, viewer: Viewer, extension: str, **filters: Any) -> list[str]:
    with db.session() as session:
        records, _total = service.list_actions(
            session, viewer, service.ActionFilter(extension_uuid=extension, **filters), Page())
        return [record.action.name for record in records]


def test_a_resource_type_filter_also_matches_actions_without_one(db: Database, extension: str) -> None:
    typed = _add(db, extension, name="typed")
    untyped = _add(db, extension, name="untyped")
    with db.session() as session:
        store.get_action(session, untyped).resource_type = None
    assert _names(db, ADMIN, extension, resource_type="VirtualMachine") == ["untyped", "typed"]
    with pytest.raises(InvalidParameter, match="Invalid resource type specified: virtualmachine"):
        _names(db, ADMIN, extension, resource_type="virtualmachine")
    assert typed


def test_an_update_that_breaks_a_rule_changes_nothing(db: Database, extension: str) -> None:
    action = _add(db, extension, description="before", parameters=[{"name": "x", "type": "STRING"}])
    bad = [
        service.ActionChanges(description="after", parameters=[{"name": "x", "type": "NUMBER",
                                                                "validationformat": "URL"}]),
        service.ActionChanges(description="after", allowed_roles=["Owner"]),
        service.ActionChanges(description="after", resource_type="Cluster"),
        service.ActionChanges(description="after", timeout=-1),
    ]
    for changes in bad:
        with pytest.raises(InvalidParameter), db.session() as session:
            service.update_action(session, store.get_action(session, action), changes)
    with db.session() as session:
        record = store.record_of(session, store.get_action(session, action))
    assert record.action.description == "before" and [d.name for d in record.definitions] == ["x"]


def test_names_are_unique_among_live_actions_of_one_extension(db: Database, extension: str) -> None:
    _add(db, extension, name="same")
    with pytest.raises(Conflict, match="Action by name already exists"):
        _add(db, extension, name="same")
    with db.session() as session:
        other = Extension(name=f"sbt-{uuid.uuid4().hex[:8]}", relative_path="x/x.sh")
        session.add(other)
        session.flush()
        other_uuid = other.uuid
    assert _add(db, other_uuid, name="same")


@pytest.mark.parametrize("role", [RoleType.USER, RoleType.DOMAIN_ADMIN, RoleType.RESOURCE_ADMIN])
def test_non_admins_see_actions_whose_mask_has_their_bit(db: Database, extension: str, role: RoleType) -> None:
    for allowed in ("User", "DomainAdmin", "ResourceAdmin"):
        _add(db, extension, name=f"for-{allowed}", allowed_roles=[allowed])
    _add(db, extension, name="admin-only")
    viewer = Viewer(role=role, account_id=1, domain_path="ROOT")
    assert _names(db, viewer, extension) == [f"for-{role.wire_name}"]
    assert len(_names(db, ADMIN, extension)) == 4


def test_a_page_of_actions_costs_a_fixed_number_of_queries(db: Database, extension: str) -> None:
    for index in range(25):
        _add(db, extension, details={"k": str(index)}, parameters=[{"name": "p", "type": "NUMBER"}])
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with db.session() as session:
            records, total = service.list_actions(session, ADMIN, service.ActionFilter(extension_uuid=extension),
                                                  Page(page=1, pagesize=20))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(records) == 20 and total == 25
    assert all(record.details["k"] for record in records) and all(r.definitions for r in records)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) <= 5, selects  # extension, count, page, details, extensions


def test_deleted_actions_are_gone_from_lookups(db: Database, extension: str) -> None:
    action = _add(db, extension)
    with db.session() as session:
        service.delete_action(session, store.get_action(session, action))
    with db.session() as session:
        row = session.execute(select(ExtensionCustomAction).where(ExtensionCustomAction.uuid == action)).scalar_one()
        assert row.removed is not None  # kept, marked removed
        with pytest.raises(NotFound, match="Unable to find custom action"):
            store.get_action(session, action)
