"""The reconcile pass: interrupted creates and deletes, adoption, host reboots, guests that go away."""

from __future__ import annotations

import threading

from agentcore.conftest import Host
from agentcore.harness import payload
from switchboard.agent.model import PowerState
from switchboard.agent.payload import spec_from_payload
from switchboard.agent.state import Phase


def _create(host: Host, name: str) -> None:
    host.agent().service.create(spec_from_payload(payload(name)))


def test_a_restarted_agent_adopts_running_vms_without_relaunching(host: Host) -> None:
    _create(host, "adopt-1")
    report = host.agent().reconciler.run_once()
    assert report.started == [] and report.failed == {}
    assert len(host.vmm.launches) == 1


def test_an_interrupted_create_is_finished_by_the_next_agent(host: Host) -> None:
    first = host.agent()
    host.vmm.launch_gate = threading.Event()
    creator = threading.Thread(target=first.service.create, args=(spec_from_payload(payload("mid-1")),))
    creator.start()
    assert host.vmm.launch_waiting.wait(10)
    # The create is now blocked inside the VMM launch: the record says "creating" on disk.
    second = host.agent()
    assert second.service.get("mid-1").phase is Phase.CREATING
    # The "killed" agent never finishes; a new agent picks the work up.
    host.vmm.launch_gate.set()
    creator.join()
    host.vmm.kill("mid-1")  # pretend the first launch never happened
    host.vmm.launch_gate = None
    report = second.reconciler.run_once()
    assert report.finished_create == ["mid-1"]
    assert second.service.get("mid-1").phase is Phase.READY
    assert host.vmm.power_state("mid-1") is PowerState.RUNNING
    assert host.storage.provisions == 1  # the root disk of the first attempt is reused, not copied again


def test_after_a_host_reboot_running_vms_come_back_with_their_network(host: Host) -> None:
    _create(host, "hr-1")
    _create(host, "hr-2")
    host.agent().service.stop("hr-2")
    host.vmm.host_reboots()
    host.network.plugged.clear()
    host.boot_id = "boot-2"
    agent = host.agent()
    report = agent.reconciler.run_once()
    assert report.started == ["hr-1"]
    assert host.vmm.power_state("hr-1") is PowerState.RUNNING
    assert "hr-1" in host.network.plugged
    assert host.vmm.power_state("hr-2") is PowerState.STOPPED
    assert agent.service.get("hr-1").boot_id == "boot-2"


def test_a_guest_reset_completes_as_a_reboot(host: Host) -> None:
    _create(host, "reset-1")
    agent = host.agent()
    host.vmm.guest_exits("reset-1", "reset")
    assert agent.reconciler.run_once().started == ["reset-1"]
    assert host.vmm.power_state("reset-1") is PowerState.RUNNING


def test_a_guest_poweroff_makes_the_vm_stopped(host: Host) -> None:
    _create(host, "off-1")
    agent = host.agent()
    host.vmm.guest_exits("off-1", "poweroff")
    assert agent.reconciler.run_once().stopped == ["off-1"]
    record = agent.service.get("off-1")
    assert (record.desired, record.observed, record.last_error) == (PowerState.STOPPED, PowerState.STOPPED, None)
    assert agent.reconciler.run_once().started == []


def test_a_vmm_killed_from_outside_is_recorded_with_the_reason(host: Host) -> None:
    _create(host, "crash-1")
    agent = host.agent()
    host.vmm.guest_exits("crash-1", "crash")
    agent.reconciler.run_once()
    record = agent.service.get("crash-1")
    assert record.desired is PowerState.STOPPED
    assert "unexpectedly (crash)" in (record.last_error or "")
    agent.service.start("crash-1")
    assert agent.service.get("crash-1").last_error is None


def test_restart_on_crash_boots_a_crashed_vm_again(host: Host) -> None:
    host.config = host.config.model_copy(
        update={"defaults": host.config.defaults.model_copy(
            update={"host": host.config.defaults.host.model_copy(update={"restart_on_crash": True})}
        )}
    )
    _create(host, "crash-2")
    agent = host.agent()
    host.vmm.guest_exits("crash-2", "crash")
    assert agent.reconciler.run_once().started == ["crash-2"]


def test_an_interrupted_delete_is_finished(host: Host) -> None:
    _create(host, "del-2")
    agent = host.agent()
    record = agent.service.get("del-2")
    record.phase = Phase.DELETING
    agent.service.rt.store.save(record)
    report = host.agent().reconciler.run_once()
    assert report.finished_delete == ["del-2"]
    assert host.storage.owners() == set() and host.vmm.running_vms() == set()


def test_leftovers_of_deleted_vms_are_removed_and_unknown_ones_left_alone(host: Host) -> None:
    _create(host, "left-1")
    agent = host.agent()
    agent.service.delete("left-1")
    # Something re-appears under the deleted name (a backend hiccup), and an unknown VM's disk exists.
    host.storage.provision_root("left-1", spec_from_payload(payload("left-1")).template, size_bytes=None)
    host.storage.provision_root("stranger", spec_from_payload(payload("left-1")).template, size_bytes=None)
    report = agent.reconciler.run_once()
    assert report.leftovers_removed == ["left-1"]
    assert report.unknown == ["stranger"]
    assert host.storage.owners() == {"stranger"}
    assert "left-1" not in agent.service.rt.deleted_names()
    metrics = agent.metrics.render().decode()
    assert "switchboard_agent_unknown_vm_resources 1.0" in metrics


def test_a_failing_repair_is_retried_with_backoff(host: Host) -> None:
    _create(host, "bo-1")
    host.vmm.host_reboots()
    host.boot_id = "boot-2"
    agent = host.agent()
    host.vmm.refuse_launch = "no kernel"
    assert "bo-1" in agent.reconciler.run_once().failed
    host.vmm.refuse_launch = None
    assert agent.reconciler.run_once().started == []  # still backing off
    assert host.vmm.power_state("bo-1") is PowerState.STOPPED


def test_the_background_loop_runs_passes_until_stopped(host: Host) -> None:
    _create(host, "loop-1")
    agent = host.agent()
    agent.reconciler._interval = 0.05
    agent.reconciler.start()
    host.vmm.guest_exits("loop-1", "reset")
    try:
        for _ in range(200):
            if host.vmm.power_state("loop-1") is PowerState.RUNNING and agent.reconciler.passes > 1:
                break
            threading.Event().wait(0.05)
    finally:
        agent.reconciler.stop()
    assert host.vmm.power_state("loop-1") is PowerState.RUNNING
