"""The agent's command line: `serve --config FILE [--insecure]`, `init-tls ...` and `shutdown-vms --config FILE`.

The top-level `switchboard agent ...` command calls `main(argv)`; `python -m switchboard.agent.cli` works
too. Exit status 0 on success, 2 on a usage or configuration error, 1 on a runtime failure.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from switchboard.agent.config import AgentConfig, ConfigError, load_config
from switchboard.agent.errors import AgentError
from switchboard.agent.pki import PkiError, init_tls, write_tls_config
from switchboard.agent.server import StartupError, UnsafeConfig, build_agent, serve
from switchboard.agent.state import StateError
from switchboard.agent.tls import TlsSetupError

__all__ = ["entry", "main"]

DEFAULT_CONFIG = "/etc/cloudstack/firecracker-agent.json"
DEFAULT_CA_DIR = "/var/lib/switchboard-agent-ca"


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="Switchboard's Firecracker host agent")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="run the agent's HTTPS API")
    serve_cmd.add_argument(
        "--config",
        default=os.environ.get("FC_AGENT_CONFIG", DEFAULT_CONFIG),
        help="JSON config file (default: $FC_AGENT_CONFIG or %(default)s)",
    )
    serve_cmd.add_argument(
        "--insecure",
        action="store_true",
        help="allow serving without TLS or without authentication, on loopback only (development, tests)",
    )
    down = commands.add_parser(
        "shutdown-vms", help="shut every VM down gracefully for a host shutdown (the agent must be stopped)"
    )
    down.add_argument("--config", default=os.environ.get("FC_AGENT_CONFIG", DEFAULT_CONFIG))
    tls = commands.add_parser("init-tls", help="create a CA, a server certificate and client certificates")
    tls.add_argument(
        "--dir", required=True, type=Path, help="the agent's directory: ca.crt, server.crt, server.key (created)"
    )
    tls.add_argument(
        "--ca-dir",
        type=Path,
        default=Path(DEFAULT_CA_DIR),
        help="the CA's directory, never the agent's: ca.key and the client certificates (default: %(default)s)",
    )
    tls.add_argument(
        "--config",
        type=Path,
        help="agent config to update: security.tls set to these files, client certificates required, "
        "the clients' fingerprints added to allowed_clients",
    )
    tls.add_argument("--hostname", action="append", default=[], help="server DNS name (repeatable)")
    tls.add_argument("--ip", action="append", default=[], help="server IP address (repeatable)")
    tls.add_argument("--client", action="append", default=[], help="client certificate name (repeatable)")
    tls.add_argument("--org", default="Switchboard", help="organisation in the subjects")
    tls.add_argument("--days", type=int, default=825, help="validity of server/client certificates")
    tls.add_argument("--force", action="store_true", help="re-issue existing server/client certificates")
    return parser


def _init_tls(args: argparse.Namespace) -> int:
    issued = init_tls(
        args.dir,
        ca_dir=args.ca_dir,
        hostnames=args.hostname or None,
        addresses=args.ip or None,
        clients=args.client,
        organisation=args.org,
        days=args.days,
        force=args.force,
    )
    print(f"CA certificate:     {issued.ca_cert}")
    print(f"server certificate: {issued.server_cert} (key beside it, mode 0600)")
    print(f"CA key:             {issued.ca_dir / 'ca.key'} (keep it off the agent's directory; 0600)")
    for name, (cert, key, fingerprint) in issued.clients.items():
        print(f"client {name}: {cert} and {key} (copy both and ca.crt to the management server)")
        print(f"  allowed_clients entry: {fingerprint}")
    if args.config is not None:
        allowed = write_tls_config(args.config, issued)
        print(f"updated {args.config}: TLS on, client certificates required, {len(allowed)} allowed_clients")
    return 0


def _shutdown_vms(config: AgentConfig) -> int:
    stopped = build_agent(config).service.shutdown_all()
    print(f"stopped {len(stopped)} VMs: {' '.join(stopped)}")
    return 0


def main(argv: list[str]) -> int:
    """Run one subcommand; returns the exit status."""
    return _run(argv, "switchboard agent")


def _run(argv: list[str], prog: str) -> int:
    args = _parser(prog).parse_args(argv)
    try:
        if args.command == "init-tls":
            return _init_tls(args)
        if args.command == "shutdown-vms":
            return _shutdown_vms(load_config(Path(args.config)))
        return serve(load_config(Path(args.config)), config_path=Path(args.config), insecure=args.insecure)
    except (ConfigError, TlsSetupError, UnsafeConfig) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (PkiError, StartupError, StateError, AgentError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def entry() -> None:
    """The `switchboard-agent` command (the agent's own package): `main` with the process's arguments."""
    sys.exit(_run(sys.argv[1:], "switchboard-agent"))


if __name__ == "__main__":
    entry()
