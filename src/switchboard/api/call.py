"""The context a command handler receives: parsed parameters, the caller, a database session, services."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from switchboard.api.params import MapValue
from switchboard.api.registry import Command
from switchboard.api.request_db import RequestDb
from switchboard.api.services import Services
from switchboard.caller import Caller
from switchboard.errors import PermissionDenied
from switchboard.infra.extension_link import ExtensionRef


@dataclass(frozen=True)
class RequestMeta:
    """What the handler may know of the HTTP request beyond its parameters."""

    client_ip: str = ""
    cookies: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "GET"


@dataclass
class Call:
    command: Command
    params: dict[str, Any]
    caller: Caller | None
    db: RequestDb
    services: Services
    meta: RequestMeta = field(default_factory=RequestMeta)
    # Cookies to set on the HTTP response (login); a value of None clears the cookie (logout).
    set_cookies: dict[str, str | None] = field(default_factory=dict)

    @property
    def session(self) -> Session:
        """The request's Session (for a quick command, made on first use)."""
        return self.db.session

    @property
    def connection(self) -> Connection:
        """The request's connection, in the same transaction as `session`: Core statements run here skip
        the ORM (and, for quick commands, the Session altogether)."""
        return self.db.connection

    def get(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)

    @property
    def who(self) -> Caller:
        """The authenticated caller; commands that allow anonymous calls must not use this."""
        if self.caller is None:
            raise PermissionDenied("This command requires an authenticated caller")
        return self.caller

    def map_param(self, name: str) -> dict[str, str] | None:
        """A map parameter flattened (all indices merged), or None when not given."""
        value = self.params.get(name)
        return value.flat() if isinstance(value, MapValue) else None

    def extension_param(self, *, purpose: str) -> ExtensionRef | None:
        """The extension named by `extensionid`, checked to be usable for `purpose` ("cluster" or
        "template"), or None when not given."""
        uuid = self.params.get("extensionid")
        if uuid is None:
            return None
        return self.services.linker.resolve(self.session, uuid, parameter="extensionid", purpose=purpose)

    @property
    def page(self) -> int | None:
        return self.params.get("page")

    @property
    def pagesize(self) -> int | None:
        return self.params.get("pagesize")

    @property
    def keyword(self) -> str | None:
        return self.params.get("keyword")
