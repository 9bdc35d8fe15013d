"""The pretend demo cloud seeded by `switchboard serve`: complete, working, seeded once, and never into a cloud
that somebody already set up (real server processes, real HTTP, SQLite or PostgreSQL); and the fall-back to
it, saying why, when the real microVMs cannot be set up. The demo of real microVMs: tests/e2e/
test_ui_demo_microvm.py."""

from __future__ import annotations

from pathlib import Path

import pytest

import tests.support.server as support
from tests.support.eventually import eventually
from tests.support.fixtures import ADMIN_PASSWORD, api_keys_of, cs_client, fresh_database
from tests.support.server import ServerProcess

pytestmark = pytest.mark.database

DEMO_ON = {"SWITCHBOARD_DEMO": "1", "SWITCHBOARD_DEMO_MICROVMS": "0", "SWITCHBOARD_ADMIN_PASSWORD": ADMIN_PASSWORD}
PRETEND = ("Demo: real microVMs are not available (SWITCHBOARD_DEMO_MICROVMS=0); the demo cloud's instances are "
           "pretend (the Demo extension).")


def _names(reply: dict, key: str) -> list[str]:
    return sorted(item["name"] for item in reply.get(key, []))


def test_demo_is_complete_and_seeded_once(tmp_path: Path) -> None:
    with fresh_database(tmp_path) as url:
        server = ServerProcess(data_dir=tmp_path / "data", database_url=url, env=DEMO_ON)
        server.start()
        try:
            assert "Demo cloud ready: open http://127.0.0.1:" in server.log()
            assert PRETEND in server.log().splitlines()  # one line says why the instances are pretend
            cs = cs_client(server, api_keys_of(server))
            zones = cs.listZones()["zone"]
            assert [zone["name"] for zone in zones] == ["Demo Zone"]
            clusters = cs.listClusters()["cluster"]
            assert [(c["hypervisortype"], c["extensionname"]) for c in clusters] == [("External", "Demo")]
            assert [h["state"] for h in cs.listHosts()["host"]] == ["Up"]
            demo = cs.listExtensions(name="Demo")["extension"][0]
            assert demo["pathready"] is True and demo["isuserdefined"] is True
            assert demo["path"].endswith("/demo/demo.py")
            templates = cs.listTemplates(templatefilter="executable")["template"]
            assert [(t["name"], t["extensionname"]) for t in templates] == [("Demo microVM", "Demo")]
            network = cs.listNetworks(listall=True)["network"][0]
            assert network["type"] == "Isolated" and network["broadcasturi"].startswith("vlan://")
            assert network["broadcasturi"] != "vlan://untagged"
            actions = cs.listCustomActions(extensionid=demo["id"])["extensioncustomaction"]
            assert [(a["name"], a["enabled"]) for a in actions] == [("Hello", True)]
            assert {p["name"]: p["type"] for p in actions[0]["parameters"]} == \
                {"name": "STRING", "shout": "BOOLEAN", "mood": "STRING"}
        finally:
            server.stop()
        # A second start finds the zone and adds nothing; it puts back the executable this server lost.
        entry = tmp_path / "data" / "extensions" / "demo" / "demo.py"
        entry.unlink()
        server = ServerProcess(data_dir=tmp_path / "data", database_url=url, env=DEMO_ON)
        server.start()
        try:
            cs = cs_client(server, api_keys_of(server))
            assert _names(cs.listZones(), "zone") == ["Demo Zone"]
            assert _names(cs.listClusters(), "cluster") == ["Demo Cluster"]
            assert len(cs.listHosts()["host"]) == 1
            assert _names(cs.listTemplates(templatefilter="executable"), "template") == ["Demo microVM"]
            assert len(cs.listNetworks(listall=True)["network"]) == 1
            [demo] = cs.listExtensions(name="Demo")["extension"]
            assert demo["pathready"] is True and entry.is_file()
            assert "Demo cloud ready" not in server.log().split("Application startup complete")[-1]
        finally:
            server.stop()


def test_demo_never_touches_a_cloud_with_a_zone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = support.switchboard_cmd
    with fresh_database(tmp_path) as url:
        # `serve --no-demo` wins over SWITCHBOARD_DEMO=1.
        monkeypatch.setattr(support, "switchboard_cmd",
                            lambda *args: original(*args, *(["--no-demo"] if args[0] == "serve" else [])))
        server = ServerProcess(data_dir=tmp_path / "data", database_url=url, env=DEMO_ON)
        server.start()
        monkeypatch.setattr(support, "switchboard_cmd", original)
        try:
            cs = cs_client(server, api_keys_of(server))
            assert cs.listZones() == {}
            cs.createZone(name="Operator Zone", networktype="Advanced", dns1="10.0.0.1", internaldns1="10.0.0.1")
        finally:
            server.stop()
        server = ServerProcess(data_dir=tmp_path / "data", database_url=url, env=DEMO_ON)
        server.start()
        try:
            cs = cs_client(server, api_keys_of(server))
            assert _names(cs.listZones(), "zone") == ["Operator Zone"]
            assert cs.listExtensions(name="Demo") == {}
            assert cs.listTemplates(templatefilter="all") == {}
            assert "Demo cloud ready" not in server.log()
            assert "open http://127.0.0.1:" in server.log()
        finally:
            server.stop()


@pytest.mark.root
def test_a_demo_whose_microvms_cannot_be_set_up_falls_back_to_the_pretend_one(tmp_path: Path) -> None:
    """The machine could run microVMs, but the guest image cannot be built where it is to go (a file stands
    there): the server says so in one line and seeds the pretend demo; nothing of the agent is left running."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    env = {**DEMO_ON, "SWITCHBOARD_DEMO_MICROVMS": "1", "SWITCHBOARD_GUEST_DIR": str(blocker / "guest")}
    with fresh_database(tmp_path) as url:
        server = ServerProcess(data_dir=tmp_path / "data", database_url=url, env=env)
        server.start()
        try:
            eventually(lambda: "Demo cloud ready: open http://127.0.0.1:" in server.log(),
                       what="the pretend demo to be seeded", timeout=120)
            [line] = [line for line in server.log().splitlines() if line.startswith("Demo: real microVMs")]
            assert line.startswith("Demo: real microVMs are not available (setting them up failed: ")
            assert line.endswith("); the demo cloud's instances are pretend (the Demo extension).")
            cs = cs_client(server, api_keys_of(server))
            assert [t["extensionname"] for t in cs.listTemplates(templatefilter="executable")["template"]] == ["Demo"]
        finally:
            server.stop()
        assert not (tmp_path / "data" / "demo" / "agent" / "agent.pid").exists()
