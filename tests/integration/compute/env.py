"""A compute test bed on a real server: an External zone/pod/cluster/host tied to an extension whose entry
point is a recorder written by the test, a template, an offering and a network, plus helpers to wait for jobs
and read what the recorder saw.

The recorder (`RECORDER`, Python) appends one JSON line per run to `calls.jsonl` in its directory: argv, the
payload file's content and mode, and whether the payload file still exists. What it answers is steered by
files in the same directory: `behaviour.json` ({action: {"exit": n, "output": "...", "sleep": s, "hold": true}};
"hold" makes the run wait while a file `hold` exists there, see `Bed.hold`) and
`power.json` ({instance name: "poweron"|"poweroff"|"unknown"|"poweroff-once"}; `statuses` answers with it
and `status` answers with the entry of the payload's instance; "poweroff-once" is answered as poweroff by
the next run and then becomes "poweron"; `"statuses": "unsupported"` makes `statuses` fail like an
extension without it, `"statuses": "renamed"` makes it answer under other names than the instances').
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cs import CloudStack

from tests.support.eventually import eventually
from tests.support.server import ServerProcess

RECORDER = r'''#!/usr/bin/env python3
import json, os, stat, sys, time
here = os.path.dirname(os.path.abspath(__file__))
action, path, timeout = sys.argv[1], sys.argv[2], sys.argv[3]
with open(path) as handle:
    payload = json.load(handle)
mode = stat.S_IMODE(os.stat(path).st_mode)
with open(os.path.join(here, "calls.jsonl"), "a") as log:
    log.write(json.dumps({"argv": sys.argv, "action": action, "payload": payload, "mode": mode,
                          "env": sorted(os.environ), "cwd": os.getcwd(),
                          "pid": os.getpid()}) + "\n")
def load(name):
    try:
        with open(os.path.join(here, name)) as handle:
            return json.load(handle)
    except FileNotFoundError:
        return {}
power = load("power.json")
once = {name for name, value in power.items() if value == "poweroff-once"}
if once and action in ("status", "statuses"):  # answer poweroff a single time, then poweron
    power.update({name: "poweroff" for name in once})
    with open(os.path.join(here, ".power.once"), "w") as handle:
        json.dump({**power, **{name: "poweron" for name in once}}, handle)
    os.replace(os.path.join(here, ".power.once"), os.path.join(here, "power.json"))
behaviour = load("behaviour.json").get(action, {})
if behaviour.get("sleep"):
    time.sleep(behaviour["sleep"])
while behaviour.get("hold") and os.path.exists(os.path.join(here, "hold")):
    time.sleep(0.05)
if action == "statuses":
    if power.get("statuses") == "unsupported":
        print('{"error":"Invalid action"}'); sys.exit(1)
    prefix = "x-" if power.get("statuses") == "renamed" else ""  # keyed by other names than the instances'
    print(json.dumps({"status": "success",
                      "power_state": {prefix + k: v for k, v in power.items() if k != "statuses"}}))
    sys.exit(0)
if action == "status":
    print(json.dumps({"status": "success", "power_state": power.get(payload["virtualmachinename"], "poweron")}))
    sys.exit(0)
if "output" in behaviour:
    sys.stdout.write(behaviour["output"])
else:
    print(json.dumps({"status": "success", "message": action + " done"}))
sys.exit(behaviour.get("exit", 0))
'''


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def wait_job(client: CloudStack, jobid: str, timeout: float = 60.0) -> dict[str, Any]:
    """Poll queryAsyncJobResult until the job is done; the whole job answer."""

    def finished() -> dict[str, Any] | None:
        job: dict[str, Any] = client.queryAsyncJobResult(jobid=jobid)
        return job if job["jobstatus"] != 0 else None

    return eventually(finished, what=f"job {jobid} to finish", timeout=timeout)


def ok(client: CloudStack, answer: dict[str, Any]) -> dict[str, Any]:
    """Wait for an async command's job and return its `virtualmachine` (failing on a failed job)."""
    job = wait_job(client, answer["jobid"])
    assert job["jobstatus"] == 1, job
    result: dict[str, Any] = job["jobresult"].get("virtualmachine", job["jobresult"])
    return result


@dataclass
class Bed:
    server: ServerProcess
    admin: CloudStack
    directory: Path  # the extension's directory (recorder, calls.jsonl, behaviour.json, power.json)
    extension: dict[str, Any]
    zone: dict[str, Any]
    cluster: dict[str, Any]
    host: dict[str, Any]
    template: dict[str, Any]
    offering: dict[str, Any]
    network: dict[str, Any]

    def calls(self) -> list[dict[str, Any]]:
        path = self.directory / "calls.jsonl"
        if not path.exists():
            return []
        calls = []
        for line in path.read_text().splitlines():
            try:
                calls.append(json.loads(line))
            except ValueError:  # the last line of a run still writing it
                continue
        return calls

    def calls_for(self, vm_uuid: str) -> list[dict[str, Any]]:
        return [c for c in self.calls() if c["payload"].get("virtualmachineid") == vm_uuid]

    def actions_for(self, vm_uuid: str) -> list[str]:
        return [c["action"] for c in self.calls_for(vm_uuid) if c["action"] not in ("status", "statuses")]

    def wait_for_action(self, vm_uuid: str, action: str, timeout: float = 20.0) -> None:
        """Wait until the recorder has started `action` for the instance."""
        eventually(lambda: action in self.actions_for(vm_uuid), what=f"the extension to start {action!r} for {vm_uuid}",
                   timeout=timeout)

    def hold(self) -> None:
        """Runs whose behaviour says "hold" wait until `release()`."""
        (self.directory / "hold").touch()

    def release(self) -> None:
        (self.directory / "hold").unlink(missing_ok=True)

    def behave(self, **actions: dict[str, Any]) -> None:
        self._write("behaviour.json", actions)

    def power(self, states: dict[str, str]) -> None:
        self._write("power.json", states)

    def _write(self, name: str, value: dict[str, Any]) -> None:
        """Atomically: a running recorder must never read a half-written file."""
        temporary = self.directory / f".{name}.tmp"
        temporary.write_text(json.dumps(value))
        os.replace(temporary, self.directory / name)

    def deploy(self, client: CloudStack | None = None, **params: Any) -> dict[str, Any]:
        client = client or self.admin
        args = {"zoneid": self.zone["id"], "templateid": self.template["id"],
                "serviceofferingid": self.offering["id"], "networkids": self.network["id"], **params}
        answer: dict[str, Any] = client.deployVirtualMachine(**args)
        return answer


def build_bed(server: ServerProcess, admin: CloudStack, *, requires_prepare: bool = True,
              script: str = RECORDER, filename: str = "recorder.py", file_later: bool = False) -> Bed:
    """Everything an instance needs, tied to a new extension whose entry point is `script`. With
    `file_later`, the entry file is written only once everything else exists (an operator copying it in
    place after creating the extension)."""
    name = unique("sbt-cmp")
    directory = server.data_dir / "extensions" / name
    directory.mkdir(parents=True)
    entry = directory / filename
    if not file_later:
        entry.write_text(script)
        os.chmod(entry, 0o755)
    extension = admin.createExtension(
        name=name, type="Orchestrator", path=filename, orchestratorrequirespreparevm=requires_prepare,
        details={"url": "https://10.0.0.5", "secret": "ext-secret"},
    )["extension"]
    if not file_later and not extension["pathready"]:  # several servers: each publishes its checksum first
        eventually(lambda: admin.listExtensions(id=extension["id"])["extension"][0]["pathready"],
                   what=f"extension {name} to be ready on every server")
    if file_later:  # a missing entry file that is not `.sh` is not scaffolded: not ready
        assert extension["pathready"] is False, extension
    zone = admin.createZone(name=unique("sbt-z"), networktype="Advanced", dns1="8.8.8.8",
                            internaldns1="10.0.0.2")["zone"]
    pod = admin.createPod(zoneid=zone["id"], name=unique("sbt-p"), gateway="10.0.0.1", netmask="255.255.255.0",
                          startip="10.0.0.10", endip="10.0.0.20")["pod"]
    cluster = admin.addCluster(zoneid=zone["id"], podid=pod["id"], clustername=unique("sbt-c"),
                               clustertype="CloudManaged", hypervisor="External", extensionid=extension["id"],
                               **{"externaldetails[0].zone_tag": "east"})["cluster"][0]
    host = admin.addHost(zoneid=zone["id"], podid=pod["id"], clusterid=cluster["id"], url=f"http://{unique('pve')}",
                         username="external", password="external", hypervisor="External",
                         **{"externaldetails[0].node": "pve1",
                            "externaldetails[0].template_id": "host-wins"})["host"][0]
    template = admin.registerTemplate(
        name=unique("sbt-t"), displaytext="t", format="EXTERNAL", hypervisor="External", url="http://dummy",
        zoneid=zone["id"], extensionid=extension["id"], ispublic=True,
        **{"externaldetails[0].template_type": "template", "externaldetails[0].template_id": "9000",
           "externaldetails[0].cpu_type": "template-cpu"},
    )["template"][0]
    offering = admin.createServiceOffering(
        name=unique("sbt-so"), displaytext="so", cpunumber=2, cpuspeed=1000, memory=512,
        **{"externaldetails[0].cpu_type": "host", "externaldetails[0].vm_name": "offering-name",
           "externaldetails[0].disk": "ssd"},
    )["serviceoffering"]
    isolated = next(o for o in admin.listNetworkOfferings()["networkoffering"]
                    if o["name"] == "DefaultIsolatedNetworkOffering")
    network = admin.createNetwork(zoneid=zone["id"], name=unique("sbt-n"), networkofferingid=isolated["id"],
                                  vlan="1577")["network"]
    if file_later:
        entry.write_text(script)
        os.chmod(entry, 0o755)
    return Bed(server=server, admin=admin, directory=directory, extension=extension, zone=zone, cluster=cluster,
               host=host, template=template, offering=offering, network=network)
