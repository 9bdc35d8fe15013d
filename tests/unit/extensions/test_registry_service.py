"""The registry's database side without a server: readiness decided from what running servers published,
built-in seeding and file installation, the planner's refusals, the interval setting, the linker."""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from switchboard.db.base import utcnow
from switchboard.db.engine import Database
from switchboard.db.migrate import upgrade
from switchboard.db.models.events import Alert
from switchboard.db.models.extensions import Extension, ExtensionCustomAction
from switchboard.db.models.jobs import ManagementServer
from switchboard.errors import InvalidParameter, NotFound
from switchboard.extensions import cleanup, prepare_across
from switchboard.extensions.builtins import Builtin, builtins, install_builtin_files, load_manifest, seed_builtins
from switchboard.extensions.custom_actions.parameters import dump_definitions, load_definitions
from switchboard.extensions.linker import RegistryLinker
from switchboard.extensions.path_state import PathStateChecker, ServerView, decide, publish, running_servers
from switchboard.extensions.paths import ExtensionRoots
from switchboard.extensions.registry import ExtensionUnusable, require_usable
from tests.support.fixtures import fresh_database

pytestmark = pytest.mark.database


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    with fresh_database(tmp_path_factory.mktemp("ext-service")) as url:
        database = Database.from_url(url)
        upgrade(database.engine)
        yield database
        database.dispose()


def _server(db: Database, *, status: str = "Up", age: float = 0.0) -> int:
    with db.session() as session:
        server = ManagementServer(name=f"sbt-{uuid.uuid4().hex[:6]}", runid=str(uuid.uuid4()), status=status,
                                  last_heartbeat=utcnow() - dt.timedelta(seconds=age))
        session.add(server)
        session.flush()
        return server.id


def _extension(db: Database, relative_path: str | None = None, **fields: object) -> int:
    name = f"sbt-{uuid.uuid4().hex[:8]}"
    with db.session() as session:
        extension = Extension(name=name, relative_path=relative_path or f"{name}/{name}.sh", **fields)
        session.add(extension)
        session.flush()
        return extension.id


def test_readiness_is_decided_from_the_running_servers_only(db: Database) -> None:
    me, peer = _server(db), _server(db)
    stale, down = _server(db, age=600), _server(db, status="Down")
    view = ServerView(server_id=lambda: me, heartbeat_timeout=20)
    same, differs, missing, invalid = (_extension(db) for _ in range(4))
    with db.session() as session:
        assert {me, peer} <= set(running_servers(session, view))
        assert stale not in running_servers(session, view) and down not in running_servers(session, view)
        publish(session, me, {same: "aa", differs: "aa", missing: "aa", invalid: None})
        publish(session, peer, {same: "aa", differs: "bb", invalid: None})
        # What stopped or silent servers published does not count.
        publish(session, stale, {same: "zz"})
        publish(session, down, {same: "zz"})
    with db.session() as session:
        assert decide(session, [same, differs, missing, invalid], view) == {
            same: True, differs: False, missing: False, invalid: False}
        publish(session, peer, {differs: "aa"})  # a later check replaces the earlier checksum
        assert decide(session, [differs], view) == {differs: True}
    with db.session() as session:
        session.execute(delete(ManagementServer).where(ManagementServer.id.in_([me, peer, stale, down])))


def test_the_periodic_check_publishes_decides_and_alerts(db: Database, tmp_path: Path) -> None:
    roots = ExtensionRoots(extensions=tmp_path / "ext", payloads=tmp_path / "data")
    me = _server(db)
    view = ServerView(server_id=lambda: me, heartbeat_timeout=20)
    checker = PathStateChecker(db=db, roots=roots, view=view, interval=300)
    ready_id = _extension(db, "ok/ok.sh", path_ready=False)
    broken_id = _extension(db, "broken/broken.sh", path_ready=True)
    entry = tmp_path / "ext" / "ok" / "ok.sh"
    entry.parent.mkdir(parents=True)
    entry.write_text("#!/bin/sh\nexit 0\n")
    entry.chmod(0o755)
    with db.session() as session:
        names = {i: session.get(Extension, i).name for i in (ready_id, broken_id)}  # type: ignore[union-attr]
    result = checker.check_once()
    assert result[names[ready_id]] is True and result[names[broken_id]] is False
    with db.session() as session:
        assert session.get(Extension, ready_id).path_ready is True  # type: ignore[union-attr]
        assert session.get(Extension, broken_id).path_ready is False  # type: ignore[union-attr]
        subject = f"Path for {names[broken_id]} not ready across management servers"
        alert = session.execute(select(Alert).where(Alert.subject == subject)).scalar_one()
        assert alert.type == 33 and alert.name == "ALERT.TYPE.EXTENSION.PATH.NOT.READY" and alert.sent_count == 1
    checker.check_once()
    with db.session() as session:
        assert session.execute(select(Alert.sent_count).where(Alert.subject == subject)).scalar_one() == 2
        session.execute(delete(ManagementServer).where(ManagementServer.id == me))


def test_builtins_are_seeded_once_and_missing_actions_come_back(db: Database) -> None:
    assert sorted(seed_builtins(db)) == sorted(b.name for b in builtins())
    assert seed_builtins(db) == []
    with db.session() as session:
        proxmox = session.execute(select(Extension).where(Extension.name == "Proxmox")).scalar_one()
        assert (proxmox.is_user_defined, proxmox.state, proxmox.path_ready) == (False, "Enabled", False)
        session.execute(delete(ExtensionCustomAction).where(ExtensionCustomAction.extension_id == proxmox.id,
                                                            ExtensionCustomAction.name == "DeleteSnapshot"))
    assert seed_builtins(db) == []
    with db.session() as session:
        names = set(session.execute(select(ExtensionCustomAction.name)
                                    .where(ExtensionCustomAction.extension_id == proxmox.id)).scalars())
    assert names == {"ListSnapshots", "CreateSnapshot", "RestoreSnapshot", "DeleteSnapshot"}


def test_seeding_moves_a_builtin_to_the_entry_point_its_manifest_ships_now(db: Database) -> None:
    seed_builtins(db)
    with db.session() as session:  # an installation seeded when Proxmox's entry point was proxmox.sh
        proxmox = session.execute(select(Extension).where(Extension.name == "Proxmox")).scalar_one()
        proxmox.relative_path, proxmox.path_ready = "Proxmox/proxmox.sh", True
    assert seed_builtins(db) == []
    with db.session() as session:
        proxmox = session.execute(select(Extension).where(Extension.name == "Proxmox")).scalar_one()
        assert (proxmox.relative_path, proxmox.path_ready) == ("Proxmox/proxmox.py", False)

    tag = uuid.uuid4().hex[:8]
    mine = Builtin(name=f"Mine-{tag}", description="d", relative_path=f"Mine-{tag}/mine.py")
    with db.session() as session:  # an operator's own extension that happens to bear a built-in's name
        session.add(Extension(name=mine.name, relative_path=f"mine-{tag}/run.sh", is_user_defined=True,
                              path_ready=True))
    assert seed_builtins(db, declared=(mine,)) == []
    with db.session() as session:
        own = session.execute(select(Extension).where(Extension.name == mine.name)).scalar_one()
        assert (own.relative_path, own.path_ready) == (f"mine-{tag}/run.sh", True)


def test_shipped_builtin_files_are_installed_when_missing_or_changed(tmp_path: Path) -> None:
    source = tmp_path / "shipped"
    (source / "Proxmox" / "lib").mkdir(parents=True)
    (source / "Proxmox" / "__pycache__").mkdir()
    (source / "Proxmox" / "proxmox.sh").write_text("#!/bin/bash\necho one\n")
    (source / "Proxmox" / "proxmox.sh").chmod(0o644)
    (source / "Proxmox" / "lib" / "helper.sh").write_text("helper\n")
    (source / "Proxmox" / "extension.json").write_text(json.dumps(
        {"name": "Proxmox", "description": "d", "entrypoint": "proxmox.sh"}))
    (source / "HyperV").mkdir()
    (source / "HyperV" / "extension.json").write_text(json.dumps(
        {"name": "HyperV", "description": "d", "entrypoint": "hyperv.py"}))
    (source / "Proxmox" / "__pycache__" / "x.pyc").write_bytes(b"cache")
    roots = ExtensionRoots(extensions=tmp_path / "root", payloads=tmp_path / "data")

    assert install_builtin_files(roots, source=source) == ["Proxmox/extension.json", "Proxmox/lib/helper.sh",
                                                           "Proxmox/proxmox.sh"]
    entry = roots.extensions / "Proxmox" / "proxmox.sh"
    assert entry.read_text() == "#!/bin/bash\necho one\n" and os.stat(entry).st_mode & 0o777 == 0o755
    assert not (roots.extensions / "Proxmox" / "__pycache__").exists()
    assert not (roots.extensions / "HyperV").exists()  # nothing shipped: left alone
    assert install_builtin_files(roots, source=source) == []
    (source / "Proxmox" / "proxmox.sh").write_text("#!/bin/bash\necho two\n")
    assert install_builtin_files(roots, source=source) == ["Proxmox/proxmox.sh"]
    assert entry.read_text() == "#!/bin/bash\necho two\n"


def test_require_usable_refuses_with_cloudstack_messages() -> None:
    def extension(**fields: object) -> Extension:
        return Extension(**{"name": "e", "relative_path": "e/e.sh", "state": "Enabled", "path_ready": True,
                            **fields})

    ready = extension()
    assert require_usable(ready) is ready
    cases = [(None, "Extension not connected"), (extension(removed=utcnow()), "Extension not connected"),
             (extension(state="Disabled"), "Extension is disabled"), (extension(path_ready=False),
                                                                      "Extension is not ready")]
    for candidate, message in cases:
        with pytest.raises(ExtensionUnusable) as refused:
            require_usable(candidate)
        assert str(refused.value) == message


def test_the_linker_resolves_orchestrators_and_describes_many(db: Database) -> None:
    first, second = _extension(db), _extension(db)
    linker = RegistryLinker()
    with db.session() as session:
        one = session.get(Extension, first)
        assert one is not None
        assert linker.resolve(session, one.uuid, parameter="extensionid", purpose="cluster").id == first
        with pytest.raises(NotFound):
            linker.resolve(session, str(uuid.uuid4()), parameter="extensionid", purpose="cluster")
        one.type = "NetworkOrchestrator"
        with pytest.raises(InvalidParameter) as refused:
            linker.resolve(session, one.uuid, parameter="extensionid", purpose="template")
        assert refused.value.parameter == "extensionid"
        assert set(linker.describe(session, [first, second, 10**9])) == {first, second}
        assert linker.describe(session, []) == {}


def test_cleanup_leaves_directories_another_extension_still_owns(db: Database, tmp_path: Path) -> None:
    roots = ExtensionRoots(extensions=tmp_path / "ext", payloads=tmp_path / "data")
    tag = uuid.uuid4().hex[:8]
    earlier, later = utcnow() - dt.timedelta(hours=2), utcnow() - dt.timedelta(hours=1)
    with db.session() as session:
        alone = Extension(name=f"alone-{tag}", relative_path=f"alone-{tag}/run.sh", removed=earlier)
        # Two names sharing one sanitised directory: the live one keeps it.
        gone = Extension(name=f"Shared {tag}", relative_path=f"shared_{tag}/run.sh", removed=earlier)
        live = Extension(name=f"shared_{tag}", relative_path=f"shared_{tag}/run.sh")
        # The same name deleted twice: the later deletion (without cleanup) decides.
        first = Extension(name=f"twice-{tag}", relative_path=f"twice-{tag}/run.sh", removed=earlier)
        second = Extension(name=f"twice-{tag}", relative_path=f"twice-{tag}/run.sh", removed=later)
        session.add_all([alone, gone, live, first, second])
        session.flush()
        for marked in (alone, gone, first):
            cleanup.mark(session, marked)
        for directory in (f"alone-{tag}", f"shared_{tag}", f"twice-{tag}"):
            (roots.extensions / directory).mkdir(parents=True)
        (roots.payloads / f"alone-{tag}").mkdir(parents=True)
        (roots.payloads / f"Shared {tag}").mkdir(parents=True)
        found = cleanup.pending_targets(session, roots)
    paths = {target.path for target in found}
    assert roots.extensions / f"alone-{tag}" in paths and roots.payloads / f"alone-{tag}" in paths
    assert roots.payloads / f"Shared {tag}" in paths
    assert roots.extensions / f"shared_{tag}" not in paths and roots.extensions / f"twice-{tag}" not in paths
    cleanup.remove(found)
    assert not (roots.extensions / f"alone-{tag}").exists() and not (roots.payloads / f"Shared {tag}").exists()
    assert (roots.extensions / f"shared_{tag}").is_dir() and (roots.extensions / f"twice-{tag}").is_dir()


def test_prepare_requests_are_carried_out_once_per_server(db: Database, tmp_path: Path) -> None:
    roots = ExtensionRoots(extensions=tmp_path / "ext", payloads=tmp_path / "data")
    here, there = _server(db), _server(db)
    enabled_id, disabled_id = _extension(db), _extension(db, state="Disabled")
    with db.session() as session:
        enabled, disabled = session.get(Extension, enabled_id), session.get(Extension, disabled_id)
        assert enabled is not None and disabled is not None
        prepare_across.request(session, enabled, here)
        prepare_across.request(session, disabled, here)
    with db.session() as session:
        assert prepare_across.pending(session, here) == []
        [item] = prepare_across.pending(session, there)  # the disabled one waits until it is enabled
        assert item.extension_id == enabled_id
    prepare_across.prepare_pending(roots, [item])
    assert (roots.extensions / item.relative_path).is_file()
    with db.session() as session:
        prepare_across.acknowledge(session, there, [item])
    with db.session() as session:
        assert prepare_across.pending(session, there) == []
        prepare_across.request(session, enabled, here)  # enabled again: a new request
        assert [p.extension_id for p in prepare_across.pending(session, there)] == [enabled_id]
        session.execute(delete(ManagementServer).where(ManagementServer.id.in_([here, there])))


def test_the_scaffold_is_not_written_through_a_symlink_leading_out(tmp_path: Path) -> None:
    roots = ExtensionRoots(extensions=tmp_path / "ext", payloads=tmp_path / "data")
    outside = tmp_path / "outside"
    outside.mkdir()
    (roots.extensions / "demo").mkdir(parents=True)
    (roots.extensions / "demo" / "bin").symlink_to(outside)
    with pytest.raises(OSError, match="outside"):
        prepare_across.scaffold_entry(roots, "demo/bin/run.sh")
    (roots.extensions / "demo" / "gone").symlink_to(tmp_path / "missing")
    with pytest.raises(OSError, match="outside"):
        prepare_across.scaffold_entry(roots, "demo/gone/sub/run.sh")
    assert list(outside.iterdir()) == []
    prepare_across.scaffold_entry(roots, "demo/sub/run.sh")
    assert (roots.extensions / "demo" / "sub" / "run.sh").is_file()


def test_seeded_parameter_definitions_load_with_the_custom_action_model() -> None:
    for builtin in builtins():
        for action in builtin.actions:
            loaded = load_definitions(dump_definitions(action.parameters))
            assert loaded == list(action.parameters)


def test_a_manifest_declares_a_builtin_with_cloudstack_defaults(tmp_path: Path) -> None:
    manifest = tmp_path / "Cloud" / "extension.json"
    manifest.parent.mkdir()
    manifest.write_text(json.dumps({
        "name": "Cloud", "description": "A cloud", "entrypoint": "cloud.py", "orchestratorrequirespreparevm": True,
        "customactions": [
            {"name": "Snap", "description": "Snapshot", "parameters": [
                {"name": "label", "type": "string", "required": True},
                {"name": "count", "type": "NUMBER", "valueoptions": "1,2"}]},
            {"name": "Wipe", "description": "Wipe", "timeout": 5, "allowedroletypes": ["DomainAdmin"]},
        ]}))
    cloud = load_manifest(manifest)
    assert (cloud.name, cloud.relative_path, cloud.requires_prepare_vm) == ("Cloud", "Cloud/cloud.py", True)
    snap, wipe = cloud.actions
    assert [p.to_json() for p in snap.parameters] == [
        {"name": "label", "type": "STRING", "validationformat": "NONE", "required": True},
        {"name": "count", "type": "NUMBER", "validationformat": "NONE", "valueoptions": [1, 2], "required": False}]
    assert (snap.timeout, snap.allowed_roles_mask) == (60, 15)
    assert (wipe.timeout, wipe.allowed_roles_mask) == (5, 1 | 4)  # Admin is always allowed


@pytest.mark.parametrize("shape", [
    {"description": "no name", "entrypoint": "x.py"},
    {"name": "X", "description": "d", "entrypoint": "x.py", "customactions": [
        {"name": "A", "description": "d", "parameters": [{"name": "p"}]}]},  # no type
    {"name": "X", "description": "d", "entrypoint": "x.py", "customactions": [
        {"name": "A", "description": "d", "allowedroletypes": ["Root"]}]},
])
def test_a_malformed_manifest_is_refused_naming_its_file(tmp_path: Path, shape: dict[str, object]) -> None:
    manifest = tmp_path / "X" / "extension.json"
    manifest.parent.mkdir()
    manifest.write_text(json.dumps(shape))
    with pytest.raises(ValueError, match=r"malformed built-in extension manifest .*X/extension\.json"):
        load_manifest(manifest)
