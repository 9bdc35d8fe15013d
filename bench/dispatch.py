#!/usr/bin/env python3
"""Extension dispatch throughput: the runner against spawning directly, and bulk vs per-instance power sync.

    .venv/bin/python bench/dispatch.py [--ops 500] [--concurrency 8] [--hosts 20] [--per-host 100] [--servers 1]

1. Lifecycle operations (create, stop, start, reboot, delete in turn) with a no-op bash executable and the
   payloads `extensions.payload` builds, `--concurrency` at a time:
   * through `ExtensionRunner` (payload file 0600, clean environment, process group, capped output);
   * spawning the same executable with the same payload files and concurrency directly
     (`asyncio.create_subprocess_exec`, nothing else) — the baseline, measured in the same run.
   Prints operations per second of each and the ratio runner/direct.
2. Power sync of `--hosts` x `--per-host` instances through the runner:
   * bulk: one `statuses` run per host (host-level payload), answers parsed by `extensions.power`;
   * fallback: one `status` run per instance, `--concurrency` at a time;
   * CloudStack 4.21's way: one `status` run per instance, one after another.
   Prints the wall time of each and the speed-up of bulk over the others.

3. The same lifecycle through the API of a real server (`bench/dispatch_api.py`): `--instances` instances
   deployed, stopped, started, rebooted and destroyed (expunge) by `--concurrency` clients, each waiting for
   its job (`--servers N`: N server processes on one database, the clients spread over them); then the same
   no-op executable run directly on the very payload files the server wrote, with the same concurrency; then
   the same client load on a zero-work API (HTTP and the same extension runs, nothing else). Prints
   operations per second of each and the ratios: API/direct, and the zero-work API's, which is the ceiling
   any server reaches on this machine (a no-op bash run costs less CPU than one HTTP round trip).
4. A power-sync round of `--fleet` Running instances through the compute area's PowerSync: bulk `statuses`
   vs `status` per instance (steady-state rounds), and the ratio.

The machine is shared: figures vary by a few per cent between runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from switchboard.extensions.paths import EntryPoint, ExtensionRoots
from switchboard.extensions.payload import lifecycle_payload, statuses_payload
from switchboard.extensions.payload_model import (
    ExtensionInfo,
    HostInfo,
    InstanceInfo,
    NicInfo,
    PowerState,
    ResourceMapInfo,
)
from switchboard.extensions.power import parse_power_state, parse_power_states
from switchboard.extensions.runner import ExtensionRunner

NOOP = r"""#!/bin/bash
# A no-op extension for benchmarks: answers every action at once.
case "$1" in
  status) echo '{"status":"success","power_state":"poweron"}' ;;
  statuses)
    re='"node":"([^"]*)"'
    [[ "$(<"$2")" =~ $re ]] && cat "$HOME/statuses-${BASH_REMATCH[1]}.json" ;;
  *) echo '{"status":"success","message":"ok"}' ;;
esac
"""
EXT = "Bench"
LIFECYCLE = ("create", "stop", "start", "reboot", "delete")
EXTENSION = ExtensionInfo(name=EXT, details={"url": "192.0.2.1", "secret": "bench-secret"})
RESOURCE_MAP = ResourceMapInfo(details={"zone_tag": "bench"})


def host(index: int) -> HostInfo:
    return HostInfo(name=f"host-{index}", details={"External:node": f"host-{index}"})


def instance(index: int) -> InstanceInfo:
    nic = NicInfo(device_id=0, nic_uuid=str(uuid.uuid4()), network_uuid=str(uuid.uuid4()), network_id=1,
                  default_nic=True, broadcast_uri="vlan://100", mac="02:00:00:00:00:01", ip="10.0.0.2")  # fmt: skip
    return InstanceInfo(id=index, uuid=str(uuid.uuid4()), account_id=2, cpus=1, speed=1000, ram_mb=512,
                        state="Running", details={"External:vm_name": f"vm{index}"}, nics=(nic,))  # fmt: skip


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise SystemExit(f"benchmark invalid: {message}")


async def bounded(jobs: list[Callable[[], Awaitable[Any]]], concurrency: int) -> list[Any]:
    gate = asyncio.Semaphore(concurrency)

    async def one(job: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await job()

    return await asyncio.gather(*(one(job) for job in jobs))


async def direct_run(executable: Path, payload_dir: Path, action: str, payload: dict[str, Any]) -> int:
    path = payload_dir / f"{uuid.uuid4()}.json"
    path.write_text(json.dumps(payload, separators=(",", ":")))
    proc = await asyncio.create_subprocess_exec(
        str(executable), action, str(path), "1800", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    await proc.communicate()
    return proc.returncode or 0


async def lifecycle_bench(runner: ExtensionRunner, entry: EntryPoint, direct_dir: Path, ops: int, conc: int) -> None:
    instances = [instance(i) for i in range(max(1, ops // len(LIFECYCLE)))]
    work = [
        (action, lifecycle_payload(action, extension=EXTENSION, resource_map=RESOURCE_MAP, host=host(0), instance=vm))
        for vm in instances
        for action in LIFECYCLE
    ]

    def via_runner(action: str, payload: dict[str, Any]) -> Callable[[], Awaitable[Any]]:
        return lambda: runner.run(extension_name=EXT, entry=entry, action=action, payload=payload, timeout=1800)

    def via_direct(action: str, payload: dict[str, Any]) -> Callable[[], Awaitable[Any]]:
        return lambda: direct_run(entry.path, direct_dir, action, payload)

    await bounded([via_direct(*w) for w in work[:20]], conc)  # warm the page cache and the loop
    started = time.perf_counter()
    results = await bounded([via_runner(*w) for w in work], conc)
    runner_s = time.perf_counter() - started
    _require(all(r.success for r in results), "a runner operation failed")
    started = time.perf_counter()
    codes = await bounded([via_direct(*w) for w in work], conc)
    direct_s = time.perf_counter() - started
    _require(not any(codes), "a direct operation failed")
    n = len(work)
    print(f"lifecycle ops: {n} at concurrency {conc}")
    print(f"  runner  {n / runner_s:8.1f} ops/s  ({runner_s:.2f} s)")
    print(f"  direct  {n / direct_s:8.1f} ops/s  ({direct_s:.2f} s)")
    print(f"  ratio runner/direct: {direct_s / runner_s:.2f}")


async def power_bench(runner: ExtensionRunner, entry: EntryPoint, hosts: int, per_host: int, conc: int) -> None:
    fleet = {h: [instance(h * per_host + i) for i in range(per_host)] for h in range(hosts)}
    for h, vms in fleet.items():  # what each host's external system knows
        answer = {"status": "success", "power_state": {vm.internal_name: "poweron" for vm in vms}}
        (entry.directory / f"statuses-host-{h}.json").write_text(json.dumps(answer))

    def statuses(h: int) -> Callable[[], Awaitable[Any]]:
        payload = statuses_payload(extension=EXTENSION, resource_map=RESOURCE_MAP, host=host(h))
        return lambda: runner.run(extension_name=EXT, entry=entry, action="statuses", payload=payload, timeout=1800)

    def status(h: int, vm: InstanceInfo) -> Callable[[], Awaitable[Any]]:
        payload = lifecycle_payload("status", extension=EXTENSION, resource_map=RESOURCE_MAP, host=host(h),
                                    instance=vm)  # fmt: skip
        return lambda: runner.run(extension_name=EXT, entry=entry, action="status", payload=payload, timeout=1800)

    total = hosts * per_host
    started = time.perf_counter()
    bulk = await bounded([statuses(h) for h in fleet], conc)
    bulk_s = time.perf_counter() - started
    known = sum(len(parse_power_states(r.success, r.output) or {}) for r in bulk)
    _require(known == total, f"bulk statuses reported {known} of {total} instances")
    per_vm = [status(h, vm) for h, vms in fleet.items() for vm in vms]
    started = time.perf_counter()
    single = await bounded(per_vm, conc)
    single_s = time.perf_counter() - started
    _require(all(parse_power_state(r.success, r.output) is PowerState.POWER_ON for r in single), "bad status")
    started = time.perf_counter()
    await bounded(per_vm, 1)
    serial_s = time.perf_counter() - started
    print(f"power sync: {total} instances on {hosts} hosts")
    print(f"  {f'bulk statuses, {conc} at a time':<38}{bulk_s:7.2f} s")
    rows = ((f"status per instance, {conc} at a time", single_s), ("status per instance, serial", serial_s))
    for label, secs in rows:
        print(f"  {label:<38}{secs:7.2f} s   bulk is {secs / bulk_s:6.1f}x faster")


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="sb-bench-") as tmp:
        roots = ExtensionRoots.in_data_dir(Path(tmp))
        script = roots.extensions / "bench" / "bench.sh"
        script.parent.mkdir(parents=True)
        script.write_text(NOOP)
        script.chmod(0o755)
        direct_dir = Path(tmp) / "direct"
        direct_dir.mkdir()
        entry = roots.entry_point("bench/bench.sh")
        runner = ExtensionRunner(roots=roots, default_limit=args.concurrency)
        try:
            await lifecycle_bench(runner, entry, direct_dir, args.ops, args.concurrency)
            await power_bench(runner, entry, args.hosts, args.per_host, args.concurrency)
        finally:
            runner.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--per-host", type=int, default=100)
    parser.add_argument("--instances", type=int, default=100, help="instances for the API lifecycle")
    parser.add_argument("--fleet", type=int, default=2000, help="instances for the API power sync")
    parser.add_argument("--servers", type=int, default=1, help="management servers (processes) on one database "
                        "for the API lifecycle; the clients are spread over them")
    parser.add_argument("--api-only", action="store_true", help="skip the runner-level parts 1 and 2")
    parser.add_argument("--pg", metavar="URL", help="run the server on a fresh database of this PostgreSQL server "
                        "(e.g. the URL scripts/pg.sh prints); default: SQLite")
    args = parser.parse_args()
    print(f"cpus: {os.cpu_count()}")
    if not args.api_only:
        asyncio.run(main_async(args))
    sys.path.insert(0, str(Path(__file__).parent))
    from dispatch_api import run_all  # a sibling file, not a package

    run_all(args.instances, args.concurrency, args.fleet, args.pg, args.servers)


if __name__ == "__main__":
    main()
