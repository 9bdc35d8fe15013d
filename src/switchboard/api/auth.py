"""How the dispatcher learns who is calling. The identity work provides the implementation."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from switchboard.api.call import RequestMeta
from switchboard.api.caller import Caller
from switchboard.api.params import RawRequest


class Authenticator(Protocol):
    def authenticate(self, session: Session, raw: RawRequest, meta: RequestMeta) -> Caller:
        """Verify a signed request (apikey + signature) or a login session (sessionkey + cookie).

        Raises AuthenticationFailed (401) without revealing which part was wrong; never logs secrets."""
        ...
