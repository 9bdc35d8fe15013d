"""Open vSwitch configuration through `ovs-vsctl --db=<address>`.

One `ovs-vsctl` process per operation, each operation one OVSDB transaction (commands joined with
`--`), rather than a persistent IDL connection: a plug or unplug is two or three short transactions
(milliseconds each, against seconds for a VM boot), every transaction is atomic on the server, no
connection has to be kept alive, re-synchronised or reconnected after an `ovsdb-server` restart, and no
OVS Python library is needed. Reads use `--format=json`, OVSDB's own JSON encoding, not screen output.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from switchboard.agent.hostcmd import CommandRunner, SubprocessRunner, check
from switchboard.agent.network.base import NetworkError

DEFAULT_DB = "unix:/var/run/openvswitch/db.sock"


class OvsError(NetworkError):
    """`ovs-vsctl` answered something unreadable. (A failing `ovs-vsctl` raises hostcmd.CommandFailed.)"""


@dataclass(frozen=True)
class OvsPort:
    """A row of the Port table (the columns this agent uses)."""

    name: str
    tag: int | None
    trunks: frozenset[int]
    vlan_mode: str | None
    external_ids: dict[str, str] = field(default_factory=dict)


def _decode(value: Any) -> Any:
    """OVSDB JSON: ["set", [...]], ["map", [[k, v], ...]], ["uuid", "..."], or an atom."""
    if isinstance(value, list) and len(value) == 2 and value[0] in ("set", "map", "uuid"):
        kind, inner = value
        if kind == "set":
            return [_decode(v) for v in inner]
        if kind == "map":
            return {_decode(k): _decode(v) for k, v in inner}
        return inner
    return value


class OvsVsctl:
    """`ovs-vsctl` bound to one database address, with a per-call timeout in seconds."""

    def __init__(self, db: str = DEFAULT_DB, *, timeout: int = 10, runner: CommandRunner | None = None) -> None:
        self.db = db
        self.timeout = timeout
        self.runner = runner or SubprocessRunner()

    def _argv(self, *args: str) -> list[str]:
        return ["ovs-vsctl", f"--db={self.db}", f"--timeout={self.timeout}", *args]

    def run(self, *args: str) -> str:
        """Run one ovs-vsctl invocation (one transaction); its stdout. Raises CommandFailed."""
        return check(self.runner, self._argv(*args), timeout=self.timeout + 5).stdout

    def transact(self, commands: Sequence[Sequence[str]]) -> None:
        """Run `commands` (each an ovs-vsctl command with its arguments) as one transaction."""
        args: list[str] = []
        for cmd in commands:
            if args:
                args.append("--")
            args.extend(cmd)
        if args:
            self.run(*args)

    def br_exists(self, bridge: str) -> bool:
        # rc 2: no such bridge.
        return check(self.runner, self._argv("br-exists", bridge), ok=(0, 2), timeout=self.timeout + 5).returncode == 0

    def bridge_ports(self, bridge: str) -> set[str]:
        return set(self.run("list-ports", bridge).split())

    def ports(self) -> list[OvsPort]:
        """Every row of the Port table."""
        out = self.run("--format=json", "--columns=name,tag,trunks,vlan_mode,external_ids", "list", "Port")
        try:
            table = json.loads(out)
            rows = [dict(zip(table["headings"], row, strict=True)) for row in table["data"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise OvsError("unreadable ovs-vsctl output") from exc
        ports = []
        for row in rows:
            tag = _decode(row["tag"])
            mode = _decode(row["vlan_mode"])
            trunks = _decode(row["trunks"])
            trunks = trunks if isinstance(trunks, list) else [trunks]  # a one-element set is a bare atom
            ports.append(
                OvsPort(
                    name=str(row["name"]),
                    tag=int(tag) if isinstance(tag, int) else None,
                    trunks=frozenset(int(t) for t in trunks),
                    vlan_mode=mode if isinstance(mode, str) else None,
                    external_ids={str(k): str(v) for k, v in _decode(row["external_ids"]).items()},
                )
            )
        return ports
