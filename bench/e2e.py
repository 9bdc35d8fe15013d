#!/usr/bin/env python3
"""Benchmark of the whole stack: deploy-to-Running of concurrent deploys through the management server, the
seeded Firecracker extension and a real agent process (HTTPS, mTLS allow-list, PAM), booting the project's
test guest (QEMU TCG by default, file storage, `none` network).

Measured in one run, with the same agent, payloads and concurrency:
* the baseline: the same number of creates sent straight to the agent (`POST /v1/vms`, the call the
  extension makes), create→answer per VM;
* through the stack: `deployVirtualMachine` → its job reports the instance Running, per instance (client
  side, queryAsyncJobResult polled every 50 ms).
Prints p50/p95 of both, the ratio stack/direct, and how the stack's time divides: the VMM launch, the
agent's other steps and the rest of its create (from the agent's own metrics), and everything outside the
agent's create (API, job queue and workers, the extension process, its HTTPS call with TLS and PAM, the
job's result). The VMM launch is the VMM boot as the agent sees it: from starting the VMM to its accepting
the boot; the guest's own boot after that is shown separately (deploy→boot marker).
Also deploy→boot marker in the serial console. Instances are deleted/expunged after each phase.

Needs root (temporary PAM users), qemu-system-x86, tmux and the guest builder's tools.
Usage: `.venv/bin/python bench/e2e.py [--deploys 10] [--vmm qemu|firecracker] [--workers N]`
(`--workers`: SWITCHBOARD_JOB_WORKERS of the server; the server's default when not given).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cs import CloudStack  # noqa: E402
from tests.builtin_extensions.firecracker.agenthost import (  # noqa: E402
    MARKER,
    AgentHost,
    pam_users,
    template_details,
)
from tests.builtin_extensions.firecracker.cloud import Cloud  # noqa: E402
from tests.builtin_extensions.firecracker.site import bench_site, succeeded, wait_job  # noqa: E402


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def agent_sums(agent: AgentHost) -> dict[str, float]:
    """Cumulative seconds per agent step (`step:<name>`) and per operation (`op:<name>`), from /metrics."""
    sums: dict[str, float] = {}
    with agent.http() as http:
        for line in http.get("/metrics").text.splitlines():
            for metric, label, prefix in (("switchboard_agent_step_seconds_sum", "step", "step"),
                                          ("switchboard_agent_operation_seconds_sum", "operation", "op")):
                if line.startswith(metric + "{"):
                    key = line.split(f'{label}="')[1].split('"')[0]
                    sums[f"{prefix}:{key}"] = float(line.rsplit(" ", 1)[1])
    return sums


def delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {key: value - before.get(key, 0.0) for key, value in after.items()}


def wait_booted(agent: AgentHost, names: list[str], started: dict[str, float]) -> list[float]:
    booted: dict[str, float] = {}
    deadline = time.monotonic() + 900
    while len(booted) < len(names):
        if time.monotonic() > deadline:
            raise SystemExit(f"guests never booted: {sorted(set(names) - set(booted))}")
        for name in names:
            if name not in booted and MARKER in agent.console(name):
                booted[name] = time.monotonic() - started[name]
        time.sleep(0.5)
    return list(booted.values())


def direct_phase(agent: AgentHost, clouds: list[Cloud]) -> tuple[list[float], list[float], dict[str, float]]:
    """Creates straight to the agent: (create→answer, create→boot marker, agent sums) per VM."""
    before = agent_sums(agent)
    started: dict[str, float] = {}
    answered: list[float] = []

    def create(cloud: Cloud) -> None:
        with agent.http(timeout=600) as http:
            started[cloud.name] = time.monotonic()
            reply = http.post("/v1/vms", json={"spec": cloud.payload("create", "Starting"), "timeout": 600})
            answered.append(time.monotonic() - started[cloud.name])
            if reply.status_code != 201:
                raise SystemExit(f"direct create of {cloud.name}: {reply.status_code} {reply.text}")

    with ThreadPoolExecutor(len(clouds)) as pool:
        list(pool.map(create, clouds))
    sums = delta(before, agent_sums(agent))
    booted = wait_booted(agent, [c.name for c in clouds], started)
    with ThreadPoolExecutor(len(clouds)) as pool, agent.http() as http:
        list(pool.map(lambda c: http.delete(f"/v1/vms/{c.name}"), clouds))
    return answered, booted, sums


def stack_phase(admin: CloudStack, agent: AgentHost, cloud: dict[str, Any],
                count: int) -> tuple[list[float], list[float], dict[str, float]]:
    """deployVirtualMachine → Running through the server: (deploy→Running, deploy→marker, agent sums)."""
    before = agent_sums(agent)
    started: dict[str, float] = {}
    running: list[float] = []
    vms: list[dict[str, Any]] = []

    def deploy(index: int) -> None:
        began = time.monotonic()
        answer = admin.deployVirtualMachine(zoneid=cloud["zone"]["id"], templateid=cloud["template"]["id"],
                                            serviceofferingid=cloud["offering"]["id"],
                                            networkids=cloud["network"]["id"])
        job = wait_job(admin, answer, poll=0.05)
        running.append(time.monotonic() - began)
        if job["jobstatus"] != 1:
            raise SystemExit(f"deploy {index} failed: {job['jobresult']}")
        vm = job["jobresult"]["virtualmachine"]
        started[vm["instancename"]] = began
        vms.append(vm)

    with ThreadPoolExecutor(count) as pool:
        list(pool.map(deploy, range(count)))
    sums = delta(before, agent_sums(agent))
    booted = wait_booted(agent, [vm["instancename"] for vm in vms], started)
    with ThreadPoolExecutor(count) as pool:
        list(pool.map(lambda vm: succeeded(admin, admin.destroyVirtualMachine(id=vm["id"], expunge=True)), vms))
    return running, booted, sums


def line(label: str, values: list[float]) -> str:
    return f"  {label:<44} p50 {percentile(values, 0.5):6.2f} s   p95 {percentile(values, 0.95):6.2f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deploys", type=int, default=10, help="concurrent deploys (default 10)")
    parser.add_argument("--vmm", choices=("qemu", "firecracker"), default="qemu",
                        help="agent VMM driver: qemu (TCG) or firecracker (the test stand-in)")
    parser.add_argument("--workers", type=int, help="the server's job workers (default: the server's default)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: the agent's PAM users are created for the run")
    env = {"SWITCHBOARD_ADMIN_PASSWORD": "sbt-bench-admin", "SWITCHBOARD_EXTENSION_WAIT": "600"}
    if args.workers:
        env["SWITCHBOARD_JOB_WORKERS"] = str(args.workers)
    with tempfile.TemporaryDirectory(prefix="sb-bench-e2e-") as tmp, pam_users(), \
            bench_site(Path(tmp), env, vmm=args.vmm) as site:
        agent, admin, cloud = site.agent, site.admin, site.cloud
        # Warm-up: one VM each way (PAM's login cache, imports, the first copy of the image).
        direct_phase(agent, [Cloud(agent.details(), template_details(), instance_id=9000)])
        stack_phase(admin, agent, cloud, 1)
        direct, direct_boot, direct_sums = direct_phase(
            agent, [Cloud(agent.details(), template_details(), instance_id=9100 + i) for i in range(args.deploys)])
        stack, stack_boot, stack_sums = stack_phase(admin, agent, cloud, args.deploys)
        load = os.getloadavg()[0]
    report(args, direct, direct_boot, direct_sums, stack, stack_boot, stack_sums, load)
    return 0


def report(args: argparse.Namespace, direct: list[float], direct_boot: list[float], direct_sums: dict[str, float],
           stack: list[float], stack_boot: list[float], stack_sums: dict[str, float], load: float) -> None:
    n = args.deploys
    workers = args.workers or "server default"
    print(f"{n} concurrent deploys, VMM {args.vmm} (TCG), file storage, no network; job workers: {workers}; "
          f"{os.cpu_count()} cores, load average {load:.1f}")
    print("baseline, straight to the agent (POST /v1/vms, as the extension sends it):")
    print(line("create → answer (VMM accepted the boot)", direct))
    print(line("create → boot marker in the serial console", direct_boot))
    print("through the stack (deployVirtualMachine → job says Running):")
    print(line("deploy → Running", stack))
    print(line("deploy → boot marker in the serial console", stack_boot))
    p50 = statistics.median(stack) / statistics.median(direct)
    mean = statistics.mean(stack) / statistics.mean(direct)
    print(f"ratio stack/direct, deploy→Running vs create→answer: p50 {p50:.2f}, mean {mean:.2f}")
    total = sum(stack)
    vmm = stack_sums.get("step:vmm_launch", 0.0)
    agent_steps = sum(v for k, v in stack_sums.items() if k.startswith("step:") and k != "step:vmm_launch")
    agent_create = stack_sums.get("op:create", 0.0)
    management = total - agent_create
    print(f"share of deploy→Running outside the VMM boot (VMM launch {vmm:.1f} s of {total:.1f} s summed over "
          f"the {n} deploys): {100 * (1 - vmm / total):.0f} %")
    parts = {"VMM launch": vmm, "the agent's other steps (storage, network, state writes)": agent_steps,
             "the rest of the agent's create (locks, checks)": agent_create - vmm - agent_steps,
             "outside the agent's create (API, job queue, extension, TLS + PAM)": management}
    for label, seconds in parts.items():
        print(f"  {label:<68} {100 * seconds / total:5.1f} %")
    direct_vmm = direct_sums.get("step:vmm_launch", 0.0)
    print(f"baseline: share of create→answer outside the VMM launch: {100 * (1 - direct_vmm / sum(direct)):.0f} %")


if __name__ == "__main__":
    sys.exit(main())
