"""The VM lifecycle through the real HTTPS API (mTLS + Basic auth), on fake backends."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from agentcore.conftest import Host
from agentcore.harness import client, payload
from switchboard.agent.api import AgentContext
from switchboard.agent.model import PowerState


@pytest.fixture
def api(served: tuple[AgentContext, str], host: Host):
    _, url = served
    with client(url, host.pki) as http:
        yield http


def test_create_boots_the_vm_and_reports_it_everywhere(api, host: Host) -> None:
    reply = api.post("/v1/vms", json={"spec": payload("i-2-100-VM", cpus=2, ram_mib=512), "timeout": 30})
    assert reply.status_code == 201, reply.text
    assert reply.json()["status"] == "success"
    assert reply.json()["vm_name"] == "i-2-100-VM"
    launched = host.vmm.launches[-1]
    assert (launched.vcpus, launched.memory_mib) == (2, 512)
    assert [n.vlan for n in launched.nics] == ["120"]
    assert launched.disks[0].is_root and launched.disks[0].path.is_file()

    status = api.get("/v1/vms/i-2-100-VM/status").json()
    assert status == {"status": "success", "vm_name": "i-2-100-VM", "power_state": "poweron", "state": "running"}
    listing = api.get("/v1/vms").json()
    assert listing["count"] == 1
    item = listing["vms"][0]
    assert (item["name"], item["status"], item["cpus"], item["memory_mib"], item["nics"]) == (
        "i-2-100-VM", "poweron", 2, 512, 1
    )
    bulk = api.get("/v1/vms/status").json()
    assert bulk["power_state"] == {"i-2-100-VM": "poweron"}
    assert api.post("/v1/statuses").json()["power_state"] == {"i-2-100-VM": "poweron"}
    details = api.get("/v1/vms/i-2-100-VM/details").json()
    assert details["vm_config"]["cpus"] == 2
    assert details["network"]["interfaces"][0]["guest_mac"] == "02:00:4c:5e:00:01"
    assert details["storage"]["cache_type"] == "Writeback"
    assert details["payload"]["cloudstack_vm_id"] == "uuid-i-2-100-VM"
    fc = details["firecracker_config"]
    assert fc["machine-config"] == {"vcpu_count": 2, "mem_size_mib": 512, "smt": False}
    assert fc["drives"][0]["is_root_device"] and fc["drives"][0]["cache_type"] == "Writeback"
    assert fc["network-interfaces"][0]["guest_mac"] == "02:00:4c:5e:00:01"


def test_secrets_in_the_payload_reach_no_response_and_no_file(api, host: Host) -> None:
    assert api.post("/v1/vms", json={"spec": payload("sec-1", password="Very-S3cret-PW")}).status_code == 201
    bodies = api.get("/v1/vms/sec-1/details").text + api.get("/v1/vms").text
    assert "S3cret" not in bodies
    for path in host.root.rglob("*"):
        if path.is_file() and "volumes" not in path.parts:
            assert b"S3cret" not in path.read_bytes(), path
    state_dir = Path(host.config.defaults.host.state_dir)
    assert stat.S_IMODE(state_dir.stat().st_mode) == 0o700
    record = state_dir / "vms" / "sec-1.json"
    assert stat.S_IMODE(record.stat().st_mode) == 0o600


def test_repeated_create_with_the_same_spec_returns_the_vm_without_relaunching(api, host: Host) -> None:
    assert api.post("/v1/vms", json={"spec": payload("idem-1")}).status_code == 201
    again = api.post("/v1/vms", json={"spec": payload("idem-1")})
    assert again.status_code == 200
    assert again.json()["created"] is False
    assert len(host.vmm.launches) == 1
    assert host.storage.provisions == 1


def test_conflicting_create_is_409_and_leaves_the_running_vm_and_disk_alone(api, host: Host) -> None:
    assert api.post("/v1/vms", json={"spec": payload("conf-1", ram_mib=256)}).status_code == 201
    disk = host.vmm.launches[-1].disks[0].path
    before = (disk.read_bytes(), disk.stat().st_mtime_ns)
    reply = api.post("/v1/vms", json={"spec": payload("conf-1", ram_mib=1024)})
    assert reply.status_code == 409
    assert "different spec" in reply.json()["error"]
    assert host.vmm.power_state("conf-1") is PowerState.RUNNING
    assert len(host.vmm.launches) == 1 and not host.vmm.shutdowns
    assert (disk.read_bytes(), disk.stat().st_mtime_ns) == before


def test_stop_is_graceful_and_idempotent_and_start_replumbs(api, host: Host) -> None:
    api.post("/v1/vms", json={"spec": payload("st-1")})
    plugs = host.network.plug_calls
    assert api.post("/v1/vms/st-1/stop", json={"timeout": 30}).status_code == 200
    assert host.vmm.shutdowns == [("st-1", 5.0)]
    assert api.get("/v1/vms/st-1/status").json()["power_state"] == "poweroff"
    assert api.post("/v1/vms/st-1/stop").status_code == 200
    assert api.post("/v1/vms/never-there/stop").status_code == 200
    assert len(host.vmm.shutdowns) == 1
    assert api.post("/v1/vms/st-1/start", json={"spec": payload("st-1")}).status_code == 200
    assert host.network.plug_calls == plugs + 1
    assert api.get("/v1/vms/st-1/status").json()["power_state"] == "poweron"
    # start of a running VM changes nothing
    launches = len(host.vmm.launches)
    assert api.post("/v1/vms/st-1/start").status_code == 200
    assert len(host.vmm.launches) == launches


def test_forced_stop_skips_the_grace(api, host: Host) -> None:
    api.post("/v1/vms", json={"spec": payload("force-1")})
    assert api.post("/v1/vms/force-1/stop", json={"force": True}).status_code == 200
    assert host.vmm.shutdowns == []
    assert host.vmm.exit_reason("force-1") == "crash"


def test_start_of_an_unknown_vm_creates_it_from_the_spec_and_404s_without(api, host: Host) -> None:
    assert api.post("/v1/vms/new-1/start").status_code == 404
    assert api.post("/v1/vms/new-1/start", json={"spec": payload("new-1")}).status_code == 200
    assert host.vmm.power_state("new-1") is PowerState.RUNNING
    mismatch = api.post("/v1/vms/new-2/start", json={"spec": payload("other-name")})
    assert mismatch.status_code == 400


def test_reboot_shuts_down_gracefully_and_boots_again(api, host: Host) -> None:
    api.post("/v1/vms", json={"spec": payload("rb-1")})
    assert api.post("/v1/vms/rb-1/reboot", json={"timeout": 5}).status_code == 200
    assert host.vmm.shutdowns == [("rb-1", 5.0)]
    assert len(host.vmm.launches) == 2
    assert host.vmm.power_state("rb-1") is PowerState.RUNNING


def test_delete_removes_everything_and_is_idempotent(api, host: Host) -> None:
    api.post("/v1/vms", json={"spec": payload("del-1")})
    disk = host.vmm.launches[-1].disks[0].path
    assert api.delete("/v1/vms/del-1").status_code == 200
    assert not disk.exists()
    assert "del-1" not in host.network.plugged
    assert host.vmm.power_state("del-1") is PowerState.STOPPED
    assert api.delete("/v1/vms/del-1").status_code == 200
    assert api.get("/v1/vms/del-1/status").json()["power_state"] == "poweroff"
    assert api.get("/v1/vms/del-1/details").status_code == 404
    assert api.get("/v1/vms").json()["count"] == 0


def test_action_style_endpoints_name_the_vm_in_the_body(api, host: Host) -> None:
    assert api.post("/v1/create", json={"spec": payload("act-1")}).status_code == 201
    assert api.post("/v1/status", json={"vm_name": "act-1"}).json()["power_state"] == "poweron"
    assert api.post("/v1/stop", json={"spec": payload("act-1")}).status_code == 200
    assert api.post("/v1/status", json={"name": "act-1"}).json()["power_state"] == "poweroff"
    assert api.post("/v1/start", json={"vm_name": "act-1"}).status_code == 200
    assert api.post("/v1/reboot", json={"vm_name": "act-1"}).status_code == 200
    assert api.post("/v1/delete", json={"vm_name": "act-1"}).status_code == 200
    assert api.post("/v1/delete", json={"vm_name": "act-1"}).status_code == 200
    assert api.post("/v1/stop", json={}).status_code == 400


def test_pause_resume_and_snapshots(api, host: Host) -> None:
    api.post("/v1/vms", json={"spec": payload("snap-1")})
    assert api.post("/v1/vms/snap-1/pause").json()["state"] == "paused"
    assert api.get("/v1/vms/snap-1/status").json() == {
        "status": "success", "vm_name": "snap-1", "power_state": "poweron", "state": "paused"
    }
    assert api.post("/v1/vms/snap-1/resume").json()["state"] == "running"
    made = api.post("/v1/vms/snap-1/snapshots", json={"name": "first"})
    assert made.status_code == 201, made.text
    assert made.json()["snapshot"]["name"] == "first"
    assert host.vmm.power_state("snap-1") is PowerState.RUNNING
    assert api.post("/v1/vms/snap-1/snapshots", json={"name": "first"}).status_code == 409
    listed = api.get("/v1/vms/snap-1/snapshots").json()["snapshots"]
    assert [s["name"] for s in listed] == ["first"]
    disk = host.vmm.launches[-1].disks[0].path
    original = disk.read_bytes()
    disk.write_bytes(b"changed after the snapshot")
    assert api.post("/v1/vms/snap-1/snapshots/first/restore").status_code == 200
    assert disk.read_bytes() == original
    assert host.vmm.power_state("snap-1") is PowerState.RUNNING
    assert api.post("/v1/vms/snap-1/snapshots/nope/restore").status_code == 404
    assert api.delete("/v1/vms/snap-1/snapshots/first").status_code == 200
    assert api.delete("/v1/vms/snap-1/snapshots/first").status_code == 200
    assert api.get("/v1/vms/snap-1/snapshots").json()["snapshots"] == []
    assert api.post("/v1/vms/snap-1/snapshots", json={"name": "../x"}).status_code == 400


def test_snapshot_of_a_stopped_vm_is_a_conflict(api) -> None:
    api.post("/v1/vms", json={"spec": payload("snap-2")})
    api.post("/v1/vms/snap-2/stop")
    assert api.post("/v1/vms/snap-2/snapshots").status_code == 409
    assert api.post("/v1/vms/snap-2/pause").status_code == 409


def test_console_log_serves_the_serial_output(api) -> None:
    api.post("/v1/vms", json={"spec": payload("con-1")})
    log = api.get("/v1/vms/con-1/console/log")
    assert log.status_code == 200
    assert "SBT-BOOTED" in log.text
    size = int(log.headers["X-Console-Size"])
    assert api.get("/v1/vms/con-1/console/log", params={"offset": size}).text == ""
    assert api.get("/v1/vms/con-1/console/log", params={"tail_bytes": 11}).text == "SBT-BOOTED\n"
    assert api.post("/v1/vms/con-1/console").status_code == 501
    assert api.delete("/v1/vms/con-1/console").status_code == 200


@pytest.mark.parametrize("name", ["-rf", "a" * 65, "x.y", "with space", "a_b"])
def test_bad_vm_names_are_refused_before_use(api, host: Host, name: str) -> None:
    for method, path in [("GET", f"/v1/vms/{name}/status"), ("DELETE", f"/v1/vms/{name}"),
                         ("POST", f"/v1/vms/{name}/stop")]:
        reply = api.request(method, path)
        assert reply.status_code == 400, (method, path, reply.text)
        assert "invalid VM name" in reply.json()["error"]
    assert api.post("/v1/vms", json={"spec": payload(name)}).status_code == 400
    assert not any(host.root.rglob(f"*{name}*"))


def test_dot_dot_in_a_path_never_reaches_a_handler(api) -> None:
    reply = api.get("/v1/vms/..%2F..%2Fetc/status")
    assert reply.status_code in (400, 404)
    assert "error" in reply.json()


def test_bad_payloads_get_clear_400s(api) -> None:
    no_kernel = payload("bad-1")
    del no_kernel["externaldetails"]["virtualmachine"]["kernel"]
    reply = api.post("/v1/vms", json={"spec": no_kernel})
    assert reply.status_code == 400 and "kernel" in reply.json()["error"]
    missing = api.post("/v1/vms", json={"spec": payload("bad-2", kernel="nope")})
    assert missing.status_code == 400 and "not found" in missing.json()["error"]
    vxlan = api.post("/v1/vms", json={"spec": payload("bad-3", vlan="vxlan://5")})
    assert vxlan.status_code == 400 and "broadcastUri" in vxlan.json()["error"]
    assert api.post("/v1/vms", json={}).json()["error"] == "Validation error"
    assert api.get("/v1/nothing-here").json() == {"error": "Not Found"}


def test_a_failed_create_leaves_nothing_behind(api, host: Host) -> None:
    host.vmm.refuse_launch = "Invalid kernel: not an ELF file"
    reply = api.post("/v1/vms", json={"spec": payload("fail-1")})
    assert reply.status_code == 500
    assert "Invalid kernel" in reply.json()["error"]
    assert host.storage.owners() == set() and host.network.owners() == set()
    assert api.get("/v1/vms").json()["count"] == 0
    host.vmm.refuse_launch = None
    assert api.post("/v1/vms", json={"spec": payload("fail-1")}).status_code == 201


def test_foreign_volumes_are_never_adopted(api, host: Host) -> None:
    stray = host.storage.root / "stray-1"
    stray.mkdir()
    (stray / "root.img").write_bytes(b"someone's data")
    reply = api.post("/v1/vms", json={"spec": payload("stray-1")})
    assert reply.status_code == 409
    assert (stray / "root.img").read_bytes() == b"someone's data"


def test_misc_endpoints_keep_the_original_shapes(api, host: Host) -> None:
    assert api.get("/healthz").json() == {"status": "healthy", "message": "Firecracker Agent is running"}
    assert api.get("/v1/health").json()["status"] == "healthy"
    assert api.get("/v1/version").json()["name"]
    index = api.get("/v1").json()
    assert "POST /v1/vms" in index["endpoints"] and "GET /v1/vms/{name}/status" in index["endpoints"]
    summary = api.get("/v1/host/summary").json()["host"]
    assert summary["memory"]["total_bytes"] > 0 and summary["cpu"]["logical_cores"] >= 1
    effective = api.get("/v1/config/effective").json()["config"]
    assert effective["host"]["vmm"] == "firecracker" and effective["storage"]["driver"] == "file"
    assert api.get("/v1/ui/config").json()["config"]["enabled"] is False
    assert api.post("/v1/save-states").json()["status"] == "success"
    api.post("/v1/vms", json={"spec": payload("misc-1")})
    assert api.get("/v1/saved-states").json()["vm_states"]["misc-1"]["status"] == "poweron"
    net = api.get("/v1/network-config/misc-1").json()["network_config"]
    assert net["nics"][0]["vlan"] == "120"
    assert api.post("/v1/network-config/misc-1/apply").status_code == 200
    assert api.post("/v1/vms/misc-1/recover").json()["message"] == "Recovered networking for VM misc-1"
    assert api.get("/v1/network-config/none-such").status_code == 404


def test_metrics_and_openapi(api) -> None:
    api.post("/v1/vms", json={"spec": payload("met-1")})
    text = api.get("/metrics").text
    assert 'switchboard_agent_vms{state="running"} 1.0' in text
    assert 'switchboard_agent_operations_total{operation="create",result="success"} 1.0' in text
    assert 'switchboard_agent_step_seconds_count{step="vmm_launch"} 1.0' in text
    assert 'switchboard_agent_step_seconds_count{step="storage"} 1.0' in text
    from openapi_spec_validator import validate

    document = api.get("/openapi.json").json()
    validate(document)
    assert "/v1/vms/{name}/snapshots" in document["paths"]
    assert api.get("/v1/openapi.json").json()["paths"] == document["paths"]


def test_graceful_shutdown_stops_all_and_keeps_them_meant_to_run(api, host: Host, served) -> None:
    agent, _ = served
    api.post("/v1/vms", json={"spec": payload("gs-1")})
    api.post("/v1/vms", json={"spec": payload("gs-2")})
    api.post("/v1/vms/gs-2/stop")
    reply = api.post("/v1/graceful-shutdown").json()
    assert reply["stopped"] == ["gs-1"]
    assert host.vmm.power_state("gs-1") is PowerState.STOPPED
    record = agent.service.get("gs-1")
    assert record.desired is PowerState.RUNNING and record.held
    # The next agent process boots it again; the VM that was stopped on purpose stays stopped.
    report = host.agent().reconciler.run_once()
    assert report.started == ["gs-1"]
    assert host.vmm.power_state("gs-2") is PowerState.STOPPED
    assert os.path.exists(host.config.defaults.host.state_dir)


def test_a_failed_start_is_reported_and_not_retried_behind_the_callers_back(api, host: Host, served) -> None:
    agent, _ = served
    api.post("/v1/vms", json={"spec": payload("fs-1")})
    api.post("/v1/vms/fs-1/stop")
    host.vmm.refuse_launch = "out of memory"
    reply = api.post("/v1/vms/fs-1/start")
    assert reply.status_code == 500 and "out of memory" in reply.json()["error"]
    host.vmm.refuse_launch = None
    details = api.get("/v1/vms/fs-1/details").json()
    assert details["desired_state"] == "stopped" and "out of memory" in details["last_error"]
    assert agent.reconciler.run_once().started == []
    assert host.vmm.power_state("fs-1") is PowerState.STOPPED
    assert api.post("/v1/vms/fs-1/start").status_code == 200


def test_start_with_a_changed_offering_adopts_it_while_stopped_only(api, host: Host) -> None:
    api.post("/v1/vms", json={"spec": payload("chg-1", cpus=1, ram_mib=256)})
    running = api.post("/v1/vms/chg-1/start", json={"spec": payload("chg-1", cpus=2, ram_mib=512)})
    assert running.status_code == 409
    api.post("/v1/vms/chg-1/stop")
    assert api.post("/v1/vms/chg-1/start", json={"spec": payload("chg-1", cpus=2, ram_mib=512)}).status_code == 200
    assert (host.vmm.launches[-1].vcpus, host.vmm.launches[-1].memory_mib) == (2, 512)
    api.post("/v1/vms/chg-1/stop")
    other_image = api.post("/v1/vms/chg-1/start", json={"spec": payload("chg-1", cpus=2, ram_mib=512,
                                                                          image="other.img")})
    assert other_image.status_code == 409 and "template" in other_image.json()["error"]


def test_data_disks_from_the_details_are_attached_and_deleted_with_the_vm(api, host: Host) -> None:
    spec = payload("dd-1")
    spec["externaldetails"]["virtualmachine"]["data_disks"] = "2M,3M"
    assert api.post("/v1/vms", json={"spec": spec}).status_code == 201
    disks = host.vmm.launches[-1].disks
    assert [(d.drive_id, d.is_root) for d in disks] == [("rootfs", True), ("data1", False), ("data2", False)]
    assert [d.path.stat().st_size for d in disks[1:]] == [2 << 20, 3 << 20]
    volumes = api.get("/v1/vms/dd-1/details").json()["storage"]["volumes"]
    assert [v["role"] for v in volumes] == ["root", "data1", "data2"]
    assert api.delete("/v1/vms/dd-1").status_code == 200
    assert not any(d.path.exists() for d in disks)
