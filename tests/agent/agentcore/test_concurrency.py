"""Per-VM locks: concurrent calls for one VM are serialised, and their outcome is consistent."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from agentcore.conftest import Host
from agentcore.harness import client, payload
from switchboard.agent.model import PowerState


def test_concurrent_creates_of_one_vm_launch_it_once(served, host: Host) -> None:
    _, url = served
    with client(url, host.pki) as http, ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda _: http.post("/v1/vms", json={"spec": payload("cc-1")}), range(8)))
    codes = sorted(r.status_code for r in replies)
    assert codes == [200] * 7 + [201]
    assert len(host.vmm.launches) == 1


def test_concurrent_mixed_calls_on_many_vms_end_consistent(served, host: Host) -> None:
    _, url = served
    names = [f"mx-{i}" for i in range(6)]

    def life(name: str) -> list[int]:
        with client(url, host.pki) as http:
            return [
                http.post("/v1/vms", json={"spec": payload(name)}).status_code,
                http.post(f"/v1/vms/{name}/stop").status_code,
                http.post(f"/v1/vms/{name}/start").status_code,
                http.post(f"/v1/vms/{name}/reboot").status_code,
            ]

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(life, names))
    assert results == [[201, 200, 200, 200]] * 6
    assert all(host.vmm.power_state(n) is PowerState.RUNNING for n in names)
    with client(url, host.pki) as http, ThreadPoolExecutor(6) as pool:
        deleted = list(pool.map(lambda n: http.delete(f"/v1/vms/{n}").status_code, names * 2))
    assert deleted == [200] * 12
    assert host.storage.owners() == set()
