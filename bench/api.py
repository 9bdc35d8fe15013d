#!/usr/bin/env python3
"""API throughput: a signed list command through the real server against a bare ASGI endpoint.

    .venv/bin/python bench/api.py [--duration 10] [--connections 4] [--command listZones]

Both sides are uvicorn processes started here with the same settings; the load comes from a third process
(`wrk` when installed — scripts/ci-deps.sh installs it — else a small httpx load generator), with the
same client, URL and connection count against each:
* Switchboard: `switchboard serve` on a fresh SQLite data directory; the request is signed with the
  admin's keys (signature version 3, `expires` 30 minutes ahead), so every request goes through parameter
  parsing, API-key lookup, signature verification, the role check, the handler's query and the envelope.
* Bare: an ASGI app that answers the very bytes Switchboard answered, ignoring the request.
Prints requests per second, p50 latency and the server's CPU time per request of each, and the ratios
Switchboard/bare (goal: at least 0.5). `--breakdown` adds the CPU cost of each layer, measured in-process.

`listZones` is measured when the server has it (one zone is created first so that the answer is not
empty); otherwise `listDomains`. `--instances N` deploys N instances first (a no-op extension, eight
deploys at a time) and measures `listVirtualMachines` of all of them in one page: an instance's answer
joins its NICs, volumes, tags, user data and details. The machine is shared: figures vary between runs by
several per cent.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from switchboard.api.signing import compute_signature

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: server exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url}: no answer within {timeout}s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- the bare endpoint (runs in its own process: `bench/api.py --serve-bare PORT BODYFILE`) ---------------

def serve_bare(port: int, body_file: str) -> None:
    import uvicorn

    body = Path(body_file).read_bytes()
    headers = [(b"content-type", b"application/json;charset=UTF-8"), (b"content-length", str(len(body)).encode())]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    # The same uvicorn settings as `switchboard serve` (server.serve).
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# -- load generation ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Result:
    rps: float
    p50_ms: float
    requests: int


def run_wrk(url: str, *, duration: int, connections: int) -> Result:
    """Requests per second, p50 latency (ms) and request count as wrk measured them."""
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    if re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        raise RuntimeError(f"wrk saw error responses from {url}:\n{out}")
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    count = re.search(r"(\d+) requests in", out)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)\b", out)
    if rps is None or count is None or p50 is None:
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p50.group(2)]
    return Result(float(rps.group(1)), float(p50.group(1)) * scale, int(count.group(1)))


async def _httpx_load(url: str, duration: float, connections: int) -> dict[str, float]:
    latencies: list[float] = []
    deadline = time.perf_counter() + duration
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        async def worker() -> None:
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                reply = await client.get(url)
                if reply.status_code != 200:
                    raise RuntimeError(f"{url}: HTTP {reply.status_code}: {reply.text[:200]}")
                latencies.append(time.perf_counter() - start)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {"rps": len(latencies) / elapsed, "p50_ms": latencies[len(latencies) // 2] * 1000,
            "requests": len(latencies)}


def run_httpx(url: str, *, duration: int, connections: int) -> Result:
    """The fallback load generator, in its own process like wrk."""
    out = subprocess.run([sys.executable, __file__, "--load", url, str(duration), str(connections)],
                         capture_output=True, text=True, check=True).stdout
    result = json.loads(out)
    return Result(float(result["rps"]), float(result["p50_ms"]), int(result["requests"]))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(load: Any, url: str, pid: int, *, duration: int, connections: int) -> tuple[Result, float]:
    """The load result and the server's CPU milliseconds per request during it. CPU per request hardly
    depends on what else the machine runs, unlike requests per second on a shared machine."""
    before = cpu_seconds(pid)
    result = load(url, duration=duration, connections=connections)
    return result, (cpu_seconds(pid) - before) * 1000 / max(result.requests, 1)


# -- where the time goes (in one process, CPU time, `--breakdown`) --------------------------------------

def _cpu_us(fn: Any, n: int = 2000) -> float:
    for _ in range(n // 10):
        fn()
    start = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - start) / n * 1e6


def breakdown(command: str | None) -> None:
    """CPU microseconds per request of each layer, measured in this process without sockets."""
    import contextlib
    import io
    import logging

    from switchboard.server import assemble
    from switchboard.settings import Settings

    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="sb-bench-api-") as tmp:
        with contextlib.redirect_stdout(io.StringIO()):
            server = assemble(Settings.load(data_dir=Path(tmp) / "data"))
        _breakdown(server, command)


def _breakdown(server: Any, command: str | None) -> None:
    from urllib.parse import urlencode as _urlencode

    from switchboard.api.app import create_app
    from switchboard.api.async_jobs import job_submitter
    from switchboard.api.call import RequestMeta
    from switchboard.api.dispatcher import Dispatcher, Reply
    from switchboard.api.params import RawRequest
    from switchboard.api.registry import REGISTRY
    from switchboard.api.request_db import KeptConnectionDb

    dispatcher = Dispatcher(registry=REGISTRY, db=server.db, services=server.services,
                            authenticator=server.authenticator, submit_job=job_submitter(server.jobs))
    with server.db.session() as session:
        pair = server.services.keys.ensure_keys(session, username="admin")
    keys = {"apikey": pair.api_key, "secretkey": pair.secret_key}
    meta = RequestMeta(client_ip="127.0.0.1")

    def signed(params: dict[str, str]) -> dict[str, str]:
        return dict(httpx.URL(signed_url("http://x/client/api", params, keys)).params)

    names = {c.name for c in REGISTRY}
    command = command or ("listZones" if "listZones" in names else "listDomains")
    if command == "listZones":
        dispatcher.dispatch(signed({"command": "createZone", "name": "bench-zone", "networktype": "Advanced",
                                    "dns1": "192.0.2.53", "internaldns1": "192.0.2.53"}), meta)
    request = signed({"command": command})
    raw = RawRequest(request)

    def connection_only() -> None:
        with server.db.kept_connection() as connection:
            KeptConnectionDb(connection).finish(ok=True)

    def connection_and_auth() -> None:
        with server.db.kept_connection() as connection:
            db = KeptConnectionDb(connection)
            server.authenticator.authenticate(db, raw, meta)
            db.finish(ok=True)

    class Constant:
        def dispatch(self, pairs: dict[str, str], meta: RequestMeta) -> Reply:
            return Reply(200, {"x": 1}, {})

        def is_quick(self, pairs: dict[str, str]) -> bool:
            return True

    loop = asyncio.new_event_loop()
    query = _urlencode(request).encode()

    async def call(app: Any) -> None:
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
                 "scheme": "http", "path": "/client/api", "raw_path": b"/client/api", "query_string": query,
                 "root_path": "", "headers": [(b"host", b"x")], "client": ("127.0.0.1", 1),
                 "server": ("127.0.0.1", 80)}

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(_message: dict[str, Any]) -> None:
            return None

        await app(scope, receive, send)

    async def bare(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    def asgi_cpu_us(app: Any, n: int = 2000) -> float:
        async def many(count: int) -> None:
            for _ in range(count):
                await call(app)

        loop.run_until_complete(many(n // 10))
        start = time.process_time()
        loop.run_until_complete(many(n))
        return (time.process_time() - start) / n * 1e6

    constant_app = create_app(Constant())
    print(f"CPU µs per request, in one process without sockets (signed {command}):")
    print(f"  {'bare ASGI app':<58}{asgi_cpu_us(bare):>8.0f}")
    print(f"  {'api/app.py around a constant dispatcher':<58}{asgi_cpu_us(constant_app):>8.0f}")
    rows = [
        (f"Dispatcher.dispatch of signed {command}", lambda: dispatcher.dispatch(request, meta)),
        ("  of which: kept connection borrowed + transaction ended", connection_only),
        ("  of which: the same + authenticate (cached key)", connection_and_auth),
    ]
    for label, fn in rows:
        print(f"  {label:<58}{_cpu_us(fn):>8.0f}")
    loop.close()
    server.db.dispose()


# -- the run ---------------------------------------------------------------------------------------------

def signed_url(base: str, params: dict[str, str], keys: dict[str, str]) -> str:
    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%S%z")
    request = {**params, "response": "json", "apiKey": keys["apikey"], "signatureVersion": "3",
               "expires": expires}
    request["signature"] = compute_signature(request, keys["secretkey"])
    return f"{base}?{urlencode(request)}"


def prepare_command(api: str, keys: dict[str, str], wanted: str | None) -> str:
    """Pick the command to measure and make sure its answer is not empty."""
    names = {a["name"] for a in httpx.get(signed_url(api, {"command": "listApis"}, keys)).json()
             ["listapisresponse"]["api"]}
    command = wanted or ("listZones" if "listZones" in names else "listDomains")
    if command == "listZones":
        reply = httpx.get(signed_url(api, {"command": "createZone", "name": "bench-zone", "networktype": "Advanced",
                                           "dns1": "192.0.2.53", "internaldns1": "192.0.2.53"}, keys))
        if reply.status_code != 200:
            print(f"note: createZone answered {reply.status_code}; measuring listZones as it is", file=sys.stderr)
    return command


def deploy_instances(api: str, keys: dict[str, str], data_dir: Path, count: int) -> dict[str, str]:
    """Deploy `count` instances on a no-op extension; the request that lists them all in one page."""
    from concurrent.futures import ThreadPoolExecutor

    from dispatch_api import Api, make_bed  # a sibling file, not a package

    client = Api(api, keys)
    bed = make_bed(client, data_dir)

    def deploy(name: str) -> None:
        client.wait(client.call("deployVirtualMachine", zoneid=bed["zone"], templateid=bed["template"],
                                serviceofferingid=bed["offering"], networkids=bed["network"], name=name))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(deploy, [f"list-{i}" for i in range(count)]))
    return {"command": "listVirtualMachines", "pagesize": str(count)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per target (default 10)")
    parser.add_argument("--connections", type=int, default=4, help="concurrent connections (default 4)")
    parser.add_argument("--command", default=None, help="list command to measure (default listZones/listDomains)")
    parser.add_argument("--loader", choices=("auto", "wrk", "httpx"), default="auto")
    parser.add_argument("--breakdown", action="store_true", help="also print CPU per layer, measured in-process")
    parser.add_argument("--instances", type=int, default=0,
                        help="deploy this many instances and measure listVirtualMachines of them, one page")
    args = parser.parse_args()
    loader = args.loader if args.loader != "auto" else ("wrk" if shutil.which("wrk") else "httpx")
    load = run_wrk if loader == "wrk" else run_httpx

    with tempfile.TemporaryDirectory(prefix="sb-bench-api-") as tmp:
        data_dir = Path(tmp) / "data"
        sb_port, bare_port = free_port(), free_port()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        cli = [sys.executable, "-m", "switchboard.cli"]
        server = subprocess.Popen([*cli, "serve", "--port", str(sb_port), "--data-dir", str(data_dir)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=REPO)
        bare: subprocess.Popen[bytes] | None = None
        try:
            api = f"http://127.0.0.1:{sb_port}/client/api"
            wait_until_up(api, server)
            keys = json.loads(subprocess.run([*cli, "admin", "api-keys", "--data-dir", str(data_dir)],
                                             capture_output=True, text=True, check=True, cwd=REPO).stdout)
            if args.instances:
                params = deploy_instances(api, keys, data_dir, args.instances)
            else:
                params = {"command": prepare_command(api, keys, args.command)}
            command = " ".join(f"{k}={v}" if k != "command" else v for k, v in params.items())
            url = signed_url(api, params, keys)
            first = httpx.get(url)
            first.raise_for_status()
            body_file = Path(tmp) / "body.json"
            body_file.write_bytes(first.content)

            bare = subprocess.Popen([sys.executable, __file__, "--serve-bare", str(bare_port), str(body_file)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=REPO)
            bare_url = f"http://127.0.0.1:{bare_port}/client/api?{url.split('?', 1)[1]}"
            wait_until_up(bare_url, bare)
            if httpx.get(bare_url).content != first.content:
                raise RuntimeError("the bare endpoint does not answer the same bytes")

            for target in (bare_url, url):  # warm-up: connections, caches, the SQLite page cache
                load(target, duration=2, connections=args.connections)
            bare_result, bare_cpu = measure(load, bare_url, bare.pid, duration=args.duration,
                                            connections=args.connections)
            sb_result, sb_cpu = measure(load, url, server.pid, duration=args.duration, connections=args.connections)
        finally:
            stop(server)
            if bare is not None:
                stop(bare)

    print(f"signed {command} ({len(first.content)} bytes), {args.connections} connections, {args.duration}s each, "
          f"load by {loader}")
    print(f"{'target':<28}{'req/s':>10}{'p50 ms':>10}{'server CPU ms/req':>20}")
    for label, result, cpu in (("bare ASGI (same JSON)", bare_result, bare_cpu),
                               ("switchboard /client/api", sb_result, sb_cpu)):
        print(f"{label:<28}{result.rps:>10.0f}{result.p50_ms:>10.2f}{cpu:>20.3f}")
    goal = "" if args.instances else " (goal >= 0.50)"  # a listing's cost grows with its rows: no goal
    print(f"ratio switchboard/bare: {sb_result.rps / bare_result.rps:.2f} req/s{goal}, "
          f"{bare_cpu / sb_cpu:.2f} by server CPU per request")
    if args.instances:
        print(f"server CPU per listed instance: {sb_cpu * 1000 / args.instances:.0f} µs")
    if args.breakdown:
        breakdown(args.command)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve-bare":
        serve_bare(int(sys.argv[2]), sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "--load":
        print(json.dumps(asyncio.run(_httpx_load(sys.argv[2], float(sys.argv[3]), int(sys.argv[4])))))
    else:
        raise SystemExit(main())
