"""How the dispatcher learns who is calling. The identity work provides the implementation."""

from __future__ import annotations

from typing import Protocol

from switchboard.api.call import RequestMeta
from switchboard.api.params import RawRequest
from switchboard.api.request_db import RequestDb
from switchboard.caller import Caller


class Authenticator(Protocol):
    def authenticate(self, db: RequestDb, raw: RawRequest, meta: RequestMeta) -> Caller:
        """Verify a signed request (apikey + signature) or a login session (sessionkey + cookie), reading
        what it needs through the request's `db` (its Session is built only when asked for).

        Raises AuthenticationFailed (401) without revealing which part was wrong; never logs secrets."""
        ...
