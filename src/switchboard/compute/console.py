"""Console access to instances: CloudStack's createConsoleEndpoint for External instances, and the single-use
tickets the server's console proxy accepts.

`open` checks that the caller may act on the instance and that it runs, asks the instance's extension for
its console (`getconsole`, protocol notes §2.8) and records a console session. A console the extension
serves itself (`protocol: direct`) is answered with its URL. A VNC console is reached through this server:
the session holds the VNC address and password sealed with the server key (bound to the session), and the
caller gets a ticket — random, stored only as its SHA-256, valid for `ttl` seconds and for one connection.
`claim` spends a ticket (a conditional UPDATE, so two connections, even to two servers sharing the
database, cannot both spend it), wipes the sealed address and returns it to the proxy. Sealed addresses of
tickets nobody spent are wiped once they expire.

Passwords and tickets are never logged; the extension's answer is not either (it holds the password).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import Table, bindparam, select, update

from switchboard.caller import Caller
from switchboard.compute.actions import Actions
from switchboard.compute.audit import caller_info
from switchboard.compute.instance_rows import get_instance
from switchboard.compute.vnc import VncSecrets
from switchboard.db.base import new_uuid, utcnow
from switchboard.db.engine import Database
from switchboard.db.models.compute import ConsoleSession, Instance, InstanceState
from switchboard.db.models.identity import Domain
from switchboard.errors import OperationFailed, SwitchboardError
from switchboard.extensions.console_output import NoConsole, parse_console
from switchboard.extensions.payload_inputs import host_target, instance_infos
from switchboard.identity.scope import check_account
from switchboard.identity.serverkey import ServerKey, UnsealError
from switchboard.jobs import JobOwner

__all__ = ["CONSOLE_WAIT", "ConsoleAccess", "ConsoleEndpoint", "ConsoleTarget", "ConsoleUnavailable"]

log = logging.getLogger(__name__)

CONSOLE_WAIT = 60  # argv[3] of getconsole: the caller waits for the answer (the agent needs up to ~15 s)
TICKET_TTL = 120.0  # seconds a ticket may be spent after it was handed out
_MAX_TOKEN = 128
# CloudStack's unsupportedConsoleVMState, with the states of an instance on its way out.
_NO_CONSOLE_STATES = frozenset({InstanceState.STOPPED.value, InstanceState.ERROR.value,
                                InstanceState.DESTROYED.value, InstanceState.EXPUNGING.value})
_SESSION = cast(Table, ConsoleSession.__table__)
_SPEND = (
    update(_SESSION)
    .where(_SESSION.c.token_hash == bindparam("hash"), _SESSION.c.acquired.is_(None),
           _SESSION.c.removed.is_(None), _SESSION.c.expires > bindparam("now"))
    .values(acquired=bindparam("now"), client_address=bindparam("client"))
)
_EXPIRED = (
    update(_SESSION)
    .where(_SESSION.c.expires <= bindparam("now"), _SESSION.c.connection_sealed.is_not(None))
    .values(connection_sealed=None)
)


class ConsoleUnavailable(OperationFailed):
    """The instance has no console now; the message says why (shown to the caller)."""


@dataclass(frozen=True)
class ConsoleEndpoint:
    """What createConsoleEndpoint answers: a ticket for this server's proxy, or the URL of a direct console."""

    session_uuid: str
    instance_uuid: str
    instance_name: str
    expires: dt.datetime
    token: str | None = field(default=None, repr=False)
    url: str | None = None


@dataclass(frozen=True)
class ConsoleTarget:
    """The VNC console a spent ticket opens."""

    session_uuid: str
    instance_uuid: str
    host: str
    port: int
    password: str | None = field(default=None, repr=False)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ConsoleAccess:
    """Hands out console endpoints and spends their tickets. Methods block (database, extension runs)."""

    def __init__(self, *, db: Database, actions: Actions, server_key: ServerKey, vnc: VncSecrets,
                 ttl: float = TICKET_TTL) -> None:
        self.db = db
        self.actions = actions
        self.key = server_key
        self.vnc = vnc
        self.ttl = ttl

    def open(self, caller: Caller, instance_uuid: str, *, creator_address: str = "") -> ConsoleEndpoint:
        """A console endpoint of the instance for `caller`. Raises NotFound (no such instance),
        PermissionDenied (the caller may not act on it) and ConsoleUnavailable (not running, the extension
        cannot be used or offers no console)."""
        owner = JobOwner(user_id=caller.user_id, account_id=caller.account_id, domain_id=caller.domain_id)
        with self.db.session() as session:
            instance = get_instance(session, instance_uuid, parameter="virtualmachineid")
            domain_path = session.execute(select(Domain.path).where(Domain.id == instance.domain_id)).scalar_one()
            check_account(caller, account_id=instance.account_id, domain_path_stored=domain_path)
            name = instance.display_name or instance.name
            if instance.state in _NO_CONSOLE_STATES or instance.host_id is None:
                raise ConsoleUnavailable(f"Instance {name} is {instance.state}: its console is there while it runs")
            host_id = instance.host_id
            try:
                target = host_target(session, host_id)
            except SwitchboardError as exc:
                raise ConsoleUnavailable(f"Console access to this instance cannot be provided: {exc.message}") \
                    from None
            info = instance_infos(session, [instance], unseal=self.vnc.unseal)[instance.id]
            payload_caller = caller_info(session, owner)
            instance_id = instance.id
        outcome = self.actions.run(target, "getconsole", info, caller=payload_caller, timeout=CONSOLE_WAIT)
        result = outcome.result
        try:
            offer = parse_console(result.success, result.output, result.details)
        except NoConsole as exc:
            log.info("instance %s: extension %s gave no console", info.internal_name, target.extension_name)
            raise ConsoleUnavailable(f"Console access to this instance cannot be provided: {_bounded(str(exc))}") \
                from None
        now = utcnow()
        row = ConsoleSession(uuid=new_uuid(), instance_id=instance_id, host_id=host_id,
                             account_id=caller.account_id, domain_id=caller.domain_id, user_id=caller.user_id,
                             creator_address=creator_address[:64], expires=now + dt.timedelta(seconds=self.ttl))
        token: str | None = None
        if offer.direct:
            row.token_hash = token_hash(secrets.token_urlsafe(32))  # never handed out: nothing to spend
            row.acquired = now
        else:
            assert offer.host is not None and offer.port is not None  # parse_console guarantees them
            token = secrets.token_urlsafe(32)
            row.token_hash = token_hash(token)
            # CloudStack falls back to the instance's own VNC password when the extension names none.
            address = {"host": offer.host, "port": offer.port, "password": offer.password or info.vnc_password}
            row.connection_sealed = self.key.seal(json.dumps(address), bound_to=f"console:{row.uuid}")
        with self.db.session() as session:
            session.add(row)
            session.execute(_EXPIRED, {"now": now})
        endpoint = ConsoleEndpoint(session_uuid=row.uuid, instance_uuid=instance_uuid, instance_name=name,
                                   expires=row.expires, token=token, url=offer.url if offer.direct else None)
        log.info("console session %s for instance %s opened by user %s from %s (%s)", endpoint.session_uuid,
                 info.internal_name, caller.username, creator_address or "?",
                 "direct" if offer.direct else "proxied")
        return endpoint

    def claim(self, token: str, *, client_address: str = "") -> ConsoleTarget | None:
        """Spend a ticket: the console it opens, or None when it is unknown, spent, expired, or its instance
        no longer runs. A ticket is spent even when its console then turns out to be unusable."""
        if not token or len(token) > _MAX_TOKEN:
            return None
        now = utcnow()
        with self.db.session() as session:
            spent = session.connection().execute(_SPEND, {"hash": token_hash(token), "now": now,
                                                          "client": client_address[:64]})
            if spent.rowcount != 1:
                return None
            row = session.execute(
                select(ConsoleSession).where(ConsoleSession.token_hash == token_hash(token))
            ).scalar_one()
            sealed, row.connection_sealed = row.connection_sealed, None
            instance = session.get(Instance, row.instance_id)
            session_uuid = row.uuid
            live = instance is not None and instance.removed is None and instance.state not in _NO_CONSOLE_STATES
            instance_uuid = instance.uuid if instance is not None else ""
        if not live or sealed is None:
            log.info("console session %s: refused, the instance no longer runs", session_uuid)
            return None
        try:
            address = json.loads(self.key.unseal(sealed, bound_to=f"console:{session_uuid}"))
        except (UnsealError, ValueError):
            log.warning("console session %s: its address does not open with this server's key", session_uuid)
            return None
        log.info("console session %s connected from %s", session_uuid, client_address or "?")
        return ConsoleTarget(session_uuid=session_uuid, instance_uuid=instance_uuid, host=str(address["host"]),
                             port=int(address["port"]), password=address.get("password"))


def _bounded(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
