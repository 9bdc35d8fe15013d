"""The Firecracker stand-in's entry point: Firecracker's command line, its API on the socket, a real guest.

Run through the `firecracker` launcher next to this file. Options Firecracker has and the stand-in does not
need (seccomp, boot timer, MMDS size...) are accepted and ignored. Exit status: 0 after a guest reset, as
Firecracker; 152 when `--config-file` is refused (Firecracker's BadConfiguration); QEMU's status if it died.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import threading
from pathlib import Path

from .fclog import FcLogger
from .machine import Machine
from .server import DEFAULT_MAX_PAYLOAD, serve
from .spec import BadRequest, Spec

BAD_CONFIGURATION = 152
# The order Firecracker applies a config file in; each section goes through the API's own checks.
_SECTIONS = (
    ("logger", "PUT", "/logger"), ("metrics", "PUT", "/metrics"), ("machine-config", "PUT", "/machine-config"),
    ("cpu-config", "PUT", "/cpu-config"), ("boot-source", "PUT", "/boot-source"),
    ("drives", "PUT", "/drives/{drive_id}"), ("network-interfaces", "PUT", "/network-interfaces/{iface_id}"),
    ("vsock", "PUT", "/vsock"), ("balloon", "PUT", "/balloon"), ("entropy", "PUT", "/entropy"),
    ("mmds-config", "PUT", "/mmds/config"),
)  # fmt: skip


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="firecracker", description="Firecracker stand-in (QEMU TCG underneath)")
    p.add_argument("--api-sock", default="/run/firecracker.socket")
    p.add_argument("--no-api", action="store_true")
    p.add_argument("--config-file")
    p.add_argument("--id", default="anonymous-instance")
    p.add_argument("--version", action="store_true")
    p.add_argument("--log-path")
    p.add_argument("--level", default="Info")
    p.add_argument("--module")
    p.add_argument("--show-level", action="store_true")
    p.add_argument("--show-log-origin", action="store_true")
    p.add_argument("--metrics-path")
    p.add_argument("--metadata")
    p.add_argument("--boot-timer", action="store_true")
    p.add_argument("--seccomp-filter")
    p.add_argument("--no-seccomp", action="store_true")
    p.add_argument("--http-api-max-payload-size", type=int, default=DEFAULT_MAX_PAYLOAD)
    p.add_argument("--mmds-size-limit", type=int)
    p.add_argument("--enable-pci", action="store_true")
    p.add_argument("--start-time-us")
    p.add_argument("--start-time-cpu-us")
    p.add_argument("--parent-cpu-time-us")
    p.add_argument("--describe-snapshot")
    p.add_argument("--snapshot-version", action="store_true")
    return p


def _apply_config_file(machine: Machine, path: str) -> str | None:
    """Configure from a Firecracker config file and start; the error message, or None."""
    try:
        config = json.loads(machine.host(path).read_text())
        machine.spec.validate("FullVmConfiguration", config)
    except (OSError, ValueError, BadRequest) as exc:
        return str(exc)
    for key, method, template in _SECTIONS:
        value = config.get(key)
        if value is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            path_ = template.replace("{drive_id}", str(item.get("drive_id", ""))).replace(
                "{iface_id}", str(item.get("iface_id", ""))
            )
            status, body = machine.handle(method, path_, json.dumps(item).encode())
            if status >= 400:
                return str(body["fault_message"])
    status, body = machine.handle("PUT", "/actions", b'{"action_type": "InstanceStart"}')
    return str(body["fault_message"]) if status >= 400 else None


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    spec = Spec()
    if args.version:
        print(f"Firecracker v{spec.version}\n")
        return 0
    if args.snapshot_version:
        print("v5.0.0")
        return 0
    if not re.fullmatch(r"[A-Za-z0-9-]{1,64}", args.id):
        print(f"Error: Invalid instance ID: {args.id}", file=sys.stderr)  # Firecracker's rule for --id
        return 1
    logger = FcLogger(args.id)
    exiting = threading.Lock()

    def on_exit(code: int) -> None:
        # The guest reset (status 0) or QEMU died: Firecracker's process ends with its VM.
        with exiting:
            logger.info("Vmm is stopping.")
            sys.stdout.flush()
            os._exit(code)

    # Set by the fake jailer (jailer.py): this process then behaves as if chrooted there.
    chroot = Path(os.environ["FCSTANDIN_CHROOT"]) if os.environ.get("FCSTANDIN_CHROOT") else None
    api_sock = chroot / args.api_sock.lstrip("/") if chroot else Path(args.api_sock)
    sock_dir = None if args.no_api else api_sock.parent / f".{api_sock.name}.qemu"
    machine = Machine(spec, instance_id=args.id, logger=logger, on_exit=on_exit, sock_dir=sock_dir, chroot=chroot)

    def on_term(signum: int, frame: object) -> None:
        machine.backend.kill(status=128 + signum)  # the exit watcher reports the same status
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    try:
        if args.log_path:
            log_path = str(machine.host(args.log_path))
            logger.configure(log_path=log_path, level=args.level, show_level=args.show_level)
    except OSError as exc:
        print(f"Error: Logger error: {exc}", file=sys.stderr)
        return 1
    logger.info(f"Running Firecracker v{spec.version}")
    if args.no_api and not args.config_file:
        print("Error: --no-api requires --config-file", file=sys.stderr)
        return 1
    if args.config_file:
        error = _apply_config_file(machine, args.config_file)
        if error is not None:
            logger.error(f"Building VMM configured from cmdline json failed: {error}")
            print(f"Error: {error}", file=sys.stderr)
            return BAD_CONFIGURATION
    if args.no_api:
        threading.Event().wait()
    try:
        serve(api_sock, machine, max_payload=args.http_api_max_payload_size)
    except OSError as exc:
        print(f"Error: Failed to open the API socket at {args.api_sock}: {exc}", file=sys.stderr)
        machine.backend.kill()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
