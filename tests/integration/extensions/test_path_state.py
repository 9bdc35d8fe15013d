"""Readiness across management servers over real HTTP (protocol notes §1.7), with a 1 s check interval:
`pathready` follows the entry file on one server, an alert is raised for an enabled extension that is not
ready, two servers on one database are ready only when both hold the same file (a scaffolded entry point
is prepared on both), and deleting with cleanup removes the files on both."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cs import CloudStack

from tests.support.eventually import eventually
from tests.support.fixtures import api_keys_of, cs_client, start_server
from tests.support.server import ServerProcess

pytestmark = pytest.mark.database

FAST = {"SWITCHBOARD_EXTENSION_PATH_CHECK_INTERVAL": "1"}


def _ready(cs: CloudStack, extension_id: str) -> bool:
    return bool(cs.listExtensions(id=extension_id, details="min")["extension"][0]["pathready"])


def _alerts(cs: CloudStack, name: str) -> list[dict[str, Any]]:
    subject = f"Path for {name} not ready across management servers"
    return [a for a in cs.listAlerts(type=33).get("alert", []) if a["description"] == subject]


@pytest.fixture(scope="module")
def fast_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, CloudStack]]:
    with start_server(tmp_path_factory.mktemp("path-state"), env=FAST) as server:
        yield server, cs_client(server, api_keys_of(server))


def test_pathready_follows_the_entry_file_and_an_alert_is_raised(fast_server: tuple[ServerProcess, CloudStack]
                                                                 ) -> None:
    _server, cs = fast_server
    name = f"sbt-ready-{uuid.uuid4().hex[:8]}"
    extension = cs.createExtension(name=name, type="Orchestrator")["extension"]
    entry = Path(extension["path"])
    original = entry.read_bytes()
    assert extension["pathready"] is True and not _alerts(cs, name)

    entry.rename(entry.with_suffix(".moved"))
    eventually(lambda: not _ready(cs, extension["id"]),
               what="pathready to turn false after the file was moved away", timeout=45, interval=0.2)
    [alert] = eventually(lambda: _alerts(cs, name), what="the path-not-ready alert", timeout=45, interval=0.2)
    assert alert["type"] == 33 and alert["name"] == "ALERT.TYPE.EXTENSION.PATH.NOT.READY"

    entry.with_suffix(".moved").rename(entry)
    eventually(lambda: _ready(cs, extension["id"]),
               what="pathready to turn true after the file came back", timeout=45, interval=0.2)

    entry.chmod(0o644)
    eventually(lambda: not _ready(cs, extension["id"]),
               what="pathready to turn false for a non-executable file", timeout=45, interval=0.2)
    entry.chmod(0o755)
    eventually(lambda: _ready(cs, extension["id"]), what="pathready to turn true again", timeout=45, interval=0.2)
    assert entry.read_bytes() == original


def test_a_disabled_extension_that_is_not_ready_raises_no_alert(fast_server: tuple[ServerProcess, CloudStack]
                                                                ) -> None:
    _server, cs = fast_server
    tag = uuid.uuid4().hex[:8]
    disabled = cs.createExtension(name=f"sbt-off-{tag}", type="Orchestrator", state="Disabled")["extension"]
    enabled = cs.createExtension(name=f"sbt-on-{tag}", type="Orchestrator")["extension"]
    Path(enabled["path"]).unlink()
    # Both are checked in the same pass: once the enabled one is reported, the disabled one was seen too.
    eventually(lambda: _alerts(cs, enabled["name"]), what="the enabled extension's alert", timeout=45, interval=0.2)
    assert _ready(cs, disabled["id"]) is False
    assert not _alerts(cs, disabled["name"])


def test_two_servers_are_ready_only_with_the_same_file(fast_server: tuple[ServerProcess, CloudStack],
                                                       tmp_path: Path) -> None:
    a, cs = fast_server
    with start_server(tmp_path / "b", env=FAST, database_url=a.database_url) as b:
        name = f"sbt-two-{uuid.uuid4().hex[:8]}"
        extension = cs.createExtension(name=name, type="Orchestrator")["extension"]
        entry_a = Path(extension["path"])
        entry_b = b.data_dir / "extensions" / entry_a.relative_to(a.data_dir / "extensions")
        assert entry_a.is_relative_to(a.data_dir / "extensions")
        # Server b has published nothing for the new extension yet: not ready.
        assert extension["pathready"] is False

        # b prepares its own copy (the scaffold) at its next check: the same file on both, ready.
        eventually(lambda: _ready(cs, extension["id"]),
                   what="pathready once b has prepared its copy", timeout=45, interval=0.2)
        assert entry_b.read_bytes() == entry_a.read_bytes()

        entry_b.write_bytes(entry_a.read_bytes() + b"\n# changed on b only\n")
        eventually(lambda: not _ready(cs, extension["id"]),
                   what="pathready to turn false for differing files", timeout=45, interval=0.2)
        eventually(lambda: _alerts(cs, name), what="the path-not-ready alert", timeout=45, interval=0.2)
        shutil.copy2(entry_a, entry_b)
        eventually(lambda: _ready(cs, extension["id"]),
                   what="pathready once both servers hold the same file again", timeout=45, interval=0.2)

        # A file b lost is not re-created behind the operator's back (it was prepared once).
        entry_b.unlink()
        eventually(lambda: not _ready(cs, extension["id"]),
                   what="pathready to turn false without b's copy", timeout=45, interval=0.2)
        assert not entry_b.exists()

        # Deleting with cleanup on a removes a's files at once and b's at b's next check.
        shutil.copy2(entry_a, entry_b)
        payloads_b = b.data_dir / "extensions-data" / name
        payloads_b.mkdir(parents=True)
        (payloads_b / "old.json").write_text("{}")
        cs.deleteExtension(id=extension["id"], cleanup=True)
        assert not entry_a.parent.exists()
        eventually(lambda: not entry_b.parent.exists() and not payloads_b.exists(),
                   what="b to remove its copies", timeout=45, interval=0.2)

        # A Python entry point is not scaffolded: while b has no copy it is not ready; once b stops (marked
        # Down), a alone decides, and its own copy is valid.
        script = cs.createExtension(name=f"{name}-py", type="Orchestrator", state="Disabled",
                                    path="run.py")["extension"]
        Path(script["path"]).parent.mkdir(parents=True)
        Path(script["path"]).write_text("#!/usr/bin/env python3\nprint('{}')\n")
        Path(script["path"]).chmod(0o755)
        enabled = cs.updateExtension(id=script["id"], state="Enabled")["extension"]
        assert enabled["pathready"] is False
        b.stop()
        eventually(lambda: _ready(cs, script["id"]),
                   what="pathready once the server without a copy is down", timeout=45, interval=0.2)
