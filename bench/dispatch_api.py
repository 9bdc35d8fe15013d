"""The API half of bench/dispatch.py: lifecycle operations through a real server, and power sync of a
seeded fleet through the compute area's PowerSync. Imported by dispatch.py; run on its own only as the
zero-work server (`dispatch_api.py --serve-zero PORT ENTRY RUNS_JSON`)."""

from __future__ import annotations

import asyncio
import http.client
import itertools
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import psutil
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from switchboard.api.signing import compute_signature
from switchboard.compute.actions import Actions
from switchboard.compute.lifecycle import Lifecycle
from switchboard.compute.power_sync import PowerSync
from switchboard.compute.runs import RunJournal
from switchboard.compute.settings import ComputeSettings
from switchboard.db.engine import Database
from switchboard.db.models.compute import Instance
from switchboard.extensions.paths import ExtensionRoots
from switchboard.extensions.runner import ExtensionRunner
from switchboard.identity.serverkey import ServerKey

# Records "<action> <payload file>" (so the same runs can be replayed directly), answers at once.
NOOP_API = r"""#!/bin/bash
echo "$1 $2" >> "$HOME/runs.log"
case "$1" in
  status) echo '{"status":"success","power_state":"poweron"}' ;;
  statuses)
    if [ -e "$HOME/no-statuses" ]; then echo '{"error":"Invalid action"}'; exit 1; fi
    cat "$HOME/statuses.json" ;;
  *) echo '{"status":"success","message":"ok"}' ;;
esac
"""
LIFECYCLE_COMMANDS = ("deploy", "stop", "start", "reboot", "destroy")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Api:
    """A lean signed-API client: one kept-alive `http.client` connection per thread, so the load generator
    (sharing the machine's cores with the server) costs as little as it can. With several `urls` (servers
    on one database) the threads are spread over them in turn."""

    url: str
    keys: dict[str, str]
    urls: tuple[str, ...] = ()
    sent: Iterator[int] = field(default_factory=itertools.count)  # next() is atomic: threads share it
    _threads: Iterator[int] = field(default_factory=itertools.count)
    _local: threading.local = field(default_factory=threading.local)

    def _connection(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            urls = self.urls or (self.url,)
            parts = urlsplit(urls[next(self._threads) % len(urls)])
            conn = self._local.conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=120)
        return conn

    def call(self, command: str, **params: Any) -> dict[str, Any]:
        next(self.sent)
        request = {"command": command, "response": "json", "apiKey": self.keys["apikey"],
                   **{k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in params.items()}}
        request["signature"] = compute_signature(request, self.keys["secretkey"])
        conn = self._connection()
        conn.request("GET", f"{urlsplit(self.url).path}?{urlencode(request)}")
        reply = conn.getresponse()
        body: dict[str, Any] = next(iter(json.loads(reply.read()).values()))
        if reply.status != 200:
            raise SystemExit(f"benchmark invalid: {command} failed: {body}")
        return body

    def wait(self, answer: dict[str, Any]) -> dict[str, Any]:
        while True:
            job = self.call("queryAsyncJobResult", jobid=answer["jobid"])
            if job["jobstatus"] == 1:
                result: dict[str, Any] = job["jobresult"]
                return result
            if job["jobstatus"] == 2:
                raise SystemExit(f"benchmark invalid: job failed: {job['jobresult']}")
            time.sleep(0.05)


@contextmanager
def fresh_database(directory: Path, pg_url: str | None) -> Iterator[str]:
    """A SQLite file in `directory`, or a new database on the PostgreSQL server `pg_url` (dropped after)."""
    if not pg_url:
        yield f"sqlite:///{directory / 'switchboard.db'}"
        return
    name = f"sbbench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def server(directory: Path, workers: int, db_url: str) -> Iterator[tuple[subprocess.Popen[bytes], str, dict[str, str]]]:
    port = _free_port()
    base = [sys.executable, "-m", "switchboard.cli"]
    where = ["--data-dir", str(directory / "data"), "--database-url", db_url]
    env = {**os.environ, "SWITCHBOARD_JOB_WORKERS": str(workers), "SWITCHBOARD_POWER_SYNC_INTERVAL": "3600",
           "SWITCHBOARD_ADMIN_PASSWORD": f"bench-{uuid.uuid4().hex}", "SWITCHBOARD_JOB_POLL_INTERVAL": "0.2"}
    log = (directory / f"server-{port}.log").open("wb")
    proc = subprocess.Popen([*base, "serve", "--port", str(port), *where], env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/client/api"
    try:
        for _ in range(600):
            try:
                httpx.get(url, params={"command": "listApis"}, timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        keys = json.loads(subprocess.run([*base, "admin", "api-keys", "--username", "admin", *where], env=env,
                                         check=True, capture_output=True, text=True).stdout)
        yield proc, url, keys
    finally:
        proc.terminate()
        proc.wait(30)


def make_bed(api: Api, data: Path) -> dict[str, str]:
    name = f"bench-{uuid.uuid4().hex[:6]}"
    entry = data / "extensions" / name / "noop.sh"
    entry.parent.mkdir(parents=True)
    entry.write_text(NOOP_API)
    entry.chmod(0o755)
    ext = api.call("createExtension", name=name, type="Orchestrator", path="noop.sh")["extension"]
    zone = api.call("createZone", name=f"z-{name}", networktype="Advanced", dns1="8.8.8.8",
                    internaldns1="10.0.0.2")["zone"]
    pod = api.call("createPod", zoneid=zone["id"], name=f"p-{name}", gateway="10.0.0.1", netmask="255.255.255.0",
                   startip="10.0.0.10", endip="10.0.0.20")["pod"]
    cluster = api.call("addCluster", zoneid=zone["id"], podid=pod["id"], clustername=f"c-{name}",
                       clustertype="CloudManaged", hypervisor="External", extensionid=ext["id"])["cluster"][0]
    host = api.call("addHost", zoneid=zone["id"], podid=pod["id"], clusterid=cluster["id"], url="http://bench-host",
                    username="external", password="external", hypervisor="External",
                    **{"externaldetails[0].node": "bench"})["host"][0]
    template = api.call("registerTemplate", name=f"t-{name}", displaytext="t", format="EXTERNAL",
                        hypervisor="External", url="http://dummy", zoneid=zone["id"], extensionid=ext["id"],
                        ispublic=True)["template"][0]
    offering = api.call("createServiceOffering", name=f"so-{name}", displaytext="so", cpunumber=1, cpuspeed=1000,
                        memory=512)["serviceoffering"]
    isolated = next(o for o in api.call("listNetworkOfferings")["networkoffering"]
                    if o["name"] == "DefaultIsolatedNetworkOffering")
    network = api.call("createNetwork", zoneid=zone["id"], name=f"n-{name}", networkofferingid=isolated["id"],
                       gateway="10.8.0.1", netmask="255.255.0.0")["network"]
    return {"ext": name, "dir": str(entry.parent), "zone": zone["id"], "template": template["id"],
            "offering": offering["id"], "network": network["id"], "host": host["id"]}


def _timed(pool: ThreadPoolExecutor, work: Callable[[Any], Any], items: list[Any]) -> tuple[list[Any], float]:
    started = time.perf_counter()
    results = list(pool.map(work, items))
    return results, time.perf_counter() - started


def _lifecycle(api: Api, bed: dict[str, str], instances: int, concurrency: int) -> float:
    """Deploy `instances`, then stop, start, reboot and destroy (expunge) each, `concurrency` clients at a time,
    each waiting for its job. Returns the wall time in seconds."""
    steps: dict[str, Callable[[Any], Any]] = {
        "deploy": lambda n: api.wait(api.call(
            "deployVirtualMachine", zoneid=bed["zone"], templateid=bed["template"],
            serviceofferingid=bed["offering"], networkids=bed["network"], name=n))["virtualmachine"]["id"],
        "stop": lambda i: api.wait(api.call("stopVirtualMachine", id=i)),
        "start": lambda i: api.wait(api.call("startVirtualMachine", id=i)),
        "reboot": lambda i: api.wait(api.call("rebootVirtualMachine", id=i)),
        "destroy": lambda i: api.wait(api.call("destroyVirtualMachine", id=i, expunge=True)),
    }
    with ThreadPoolExecutor(concurrency) as pool:
        ids, total = _timed(pool, steps["deploy"], [f"b{i}" for i in range(instances)])
        for step in LIFECYCLE_COMMANDS[1:]:
            _r, elapsed = _timed(pool, steps[step], ids)
            total += elapsed
    return total


# -- the zero-work API: the ceiling any server can reach here -----------------------------------------------

# The extension actions each command runs, as the real server runs them (destroy of a Running instance with
# expunge stops it, then deletes it).
ACTIONS_OF = {"deployVirtualMachine": ("create",), "stopVirtualMachine": ("stop",),
              "startVirtualMachine": ("start",), "rebootVirtualMachine": ("reboot",),
              "destroyVirtualMachine": ("stop", "delete")}


def serve_zero(port: int, entry: str, payloads_file: str) -> None:
    """An API that does nothing but run the extension: each submission runs the executable for its actions (on
    payload files the real server wrote) and answers with a job that is already done; no signature check, no
    database, no job queue. The same uvicorn settings as `switchboard serve`."""
    import uvicorn

    payloads: dict[str, str] = json.loads(Path(payloads_file).read_text())
    env = {"HOME": str(Path(payloads_file).parent), "PATH": os.environ["PATH"]}
    ids = itertools.count()

    async def run(action: str) -> None:
        proc = await asyncio.create_subprocess_exec(entry, action, payloads[action], "1800", env=env,
                                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        await proc.communicate()
        if proc.returncode:
            raise RuntimeError(f"the extension failed on {action}")

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        params = dict(parse_qsl(scope["query_string"].decode()))
        command = params["command"]
        if command == "queryAsyncJobResult":
            done = {"jobid": params["jobid"], "jobstatus": 1, "jobresult": {"virtualmachine": {"id": params["jobid"]}}}
            body = {"queryasyncjobresultresponse": done}
        else:
            for action in ACTIONS_OF[command]:
                await run(action)
            job = params.get("id") or f"vm-{next(ids)}"
            body = {f"{command.lower()}response": {"jobid": job, "id": job}}
        data = json.dumps(body).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
        await send({"type": "http.response.body", "body": data})

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


@contextmanager
def zero_server(directory: Path, entry: Path,
                payloads: dict[str, str]) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = _free_port()
    payloads_file = directory / "zero-payloads.json"
    payloads_file.write_text(json.dumps(payloads))
    proc = subprocess.Popen([sys.executable, __file__, "--serve-zero", str(port), str(entry), str(payloads_file)])
    url = f"http://127.0.0.1:{port}/client/api"
    try:
        for _ in range(300):
            try:
                httpx.get(url, params={"command": "queryAsyncJobResult", "jobid": "up"}, timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield proc, url
    finally:
        proc.terminate()
        proc.wait(30)


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def api_lifecycle(instances: int, concurrency: int, pg_url: str | None, servers: int = 1) -> None:
    """`instances` x deploy, stop, start, reboot, destroy(expunge) through the API, `concurrency` clients at a
    time (spread over `servers` servers sharing the database and data directory); the same executable run
    directly on the very payload files the servers wrote; and the same client load on the zero-work API,
    which shows the ceiling of the ratio on this machine."""
    this = psutil.Process()
    ops = instances * len(LIFECYCLE_COMMANDS)
    with tempfile.TemporaryDirectory(prefix="sb-bench-api-") as tmp, fresh_database(Path(tmp), pg_url) as db_url:
        with ExitStack() as stack:
            proc, url, keys = stack.enter_context(server(Path(tmp), concurrency, db_url))
            bed = make_bed(Api(url, keys), Path(tmp) / "data")
            # The others start once the extension exists, so they find it ready at their first check.
            others = [stack.enter_context(server(Path(tmp), concurrency, db_url)) for _ in range(servers - 1)]
            api = Api(url, keys, urls=(url, *(other[1] for other in others)))
            served = [psutil.Process(p.pid) for p in (proc, *(other[0] for other in others))]
            before, client_before, sent_before = sum(map(_cpu, served)), _cpu(this), next(api.sent)
            total = _lifecycle(api, bed, instances, concurrency)
            server_cpu, client_cpu = sum(map(_cpu, served)) - before, _cpu(this) - client_before
            requests = next(api.sent) - sent_before - 1
        runs = [line.split(" ", 1) for line in (Path(bed["dir"]) / "runs.log").read_text().splitlines()]
        entry = Path(bed["dir"]) / "noop.sh"

        def direct(run: list[str]) -> int:
            return subprocess.run([str(entry), run[0], run[1], "1800"], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, env={"HOME": tmp, "PATH": os.environ["PATH"]},
                                  check=False).returncode

        with ThreadPoolExecutor(concurrency) as pool:
            codes, direct_s = _timed(pool, direct, runs)
        if any(codes):
            raise SystemExit("benchmark invalid: a direct run failed")
        payloads = {action: path for action, path in reversed(runs)}
        with zero_server(Path(tmp), entry, payloads) as (zero_proc, zero_url):
            zero = Api(zero_url, keys)
            zero_before = _cpu(psutil.Process(zero_proc.pid))
            zero_s = _lifecycle(zero, dict.fromkeys(("zone", "template", "offering", "network"), "-"), instances,
                                concurrency)
            zero_cpu = _cpu(psutil.Process(zero_proc.pid)) - zero_before
    print(f"API lifecycle: {instances} instances x {'/'.join(LIFECYCLE_COMMANDS)} = {ops} operations "
          f"({len(runs)} extension runs), {concurrency} at a time"
          + (f", {servers} servers on one database" if servers > 1 else ""))
    print(f"  through the API  {ops / total:8.1f} ops/s  ({total:.2f} s; server process CPU "
          f"{server_cpu / ops * 1000:.1f} ms/op, client {client_cpu / ops * 1000:.1f} ms/op, "
          f"{requests / ops:.1f} API requests/op incl. polls every 50 ms)")
    print(f"  zero-work API    {ops / zero_s:8.1f} ops/s  ({zero_s:.2f} s; server CPU {zero_cpu / ops * 1000:.1f} "
          f"ms/op: HTTP and the same extension runs, nothing else)")
    print(f"  direct spawn     {ops / direct_s:8.1f} ops/s  ({direct_s:.2f} s, same executable and payload files)")
    print(f"  ratio API/direct: {direct_s / total:.2f}   (zero-work API/direct, the ceiling here: "
          f"{direct_s / zero_s:.2f}; API/zero-work: {zero_s / total:.2f})")


def api_power_sync(fleet: int, pg_url: str | None, hosts_note: str = "one host") -> None:
    """Power sync of `fleet` Running instances (seeded rows) with bulk `statuses` vs `status` per instance."""
    with tempfile.TemporaryDirectory(prefix="sb-bench-sync-") as tmp, fresh_database(Path(tmp), pg_url) as db_url, \
            server(Path(tmp), 2, db_url) as (_p, url, keys):
        data = Path(tmp) / "data"
        api = Api(url, keys)
        bed = make_bed(api, data)
        first = api.wait(api.call("deployVirtualMachine", zoneid=bed["zone"], templateid=bed["template"],
                                  serviceofferingid=bed["offering"], networkids=bed["network"], name="seed"))
        db = Database.from_url(db_url)
        with db.session() as session:
            seed = session.execute(select(Instance).where(Instance.uuid == first["virtualmachine"]["id"])).scalar_one()
            columns = {c.key: getattr(seed, c.key) for c in Instance.__table__.columns if c.key not in ("id", "uuid")}
            names = [seed.instance_name]
            for i in range(fleet - 1):
                clone = Instance(**{**columns, "name": f"c{i}", "vnc_password_sealed": None,
                                    "instance_name": f"i-{seed.account_id}-x{i}-VM"})
                session.add(clone)
                names.append(clone.instance_name)
        answer = {"status": "success", "power_state": {name: "poweron" for name in names}}
        (Path(bed["dir"]) / "statuses.json").write_text(json.dumps(answer))
        roots = ExtensionRoots.in_data_dir(data)
        runner = ExtensionRunner(roots=roots)
        settings = ComputeSettings(power_sync_concurrency=16)
        lifecycle = Lifecycle(db=db, actions=Actions(runner=runner, roots=roots, wait=1800),
                              server_key=ServerKey.load_or_create(data / "secret.key"),
                              journal=RunJournal(db=db, roots=roots, wait=lambda: 1800, server_name="bench",
                                                 owner=lambda: None))
        sync = PowerSync(db=db, runner=runner, roots=roots, settings=settings, lifecycle=lifecycle,
                         owner=lambda: None, heartbeat_timeout=30.0)
        try:
            sync.run_once(require_lease=False)  # first round records PowerOn everywhere
            started = time.perf_counter()
            bulk = sync.run_once(require_lease=False)
            bulk_s = time.perf_counter() - started
            (Path(bed["dir"]) / "no-statuses").touch()
            sync.run_once(require_lease=False)  # learns that statuses is unsupported
            started = time.perf_counter()
            single = sync.run_once(require_lease=False)
            single_s = time.perf_counter() - started
        finally:
            runner.close()
            db.dispose()
        if not (bulk and single and bulk.bulk_hosts == 1 and single.fallback_instances == fleet):
            raise SystemExit(f"benchmark invalid: {bulk} {single}")
    print(f"power sync round through PowerSync: {fleet} Running instances on {hosts_note}")
    print(f"  bulk statuses (1 run)            {bulk_s:7.2f} s")
    print(f"  status per instance, 16 at a time {single_s:6.2f} s   bulk is {single_s / bulk_s:5.1f}x faster")


def run_all(instances: int, concurrency: int, fleet: int, pg_url: str | None, servers: int = 1) -> None:
    print(f"database: {'PostgreSQL' if pg_url else 'SQLite'}")
    api_lifecycle(instances, concurrency, pg_url, servers)
    api_power_sync(fleet, pg_url)


if __name__ == "__main__":
    if sys.argv[1:2] != ["--serve-zero"] or len(sys.argv) != 5:
        raise SystemExit("usage: dispatch_api.py --serve-zero PORT ENTRY PAYLOADS_JSON (bench/dispatch.py runs it)")
    serve_zero(int(sys.argv[2]), sys.argv[3], sys.argv[4])
