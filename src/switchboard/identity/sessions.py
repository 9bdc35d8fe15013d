"""Login sessions: a random session key for the client, only its HMAC digest in the database."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable

from sqlalchemy import delete
from sqlalchemy.orm import Session

from switchboard.db.base import utcnow
from switchboard.db.models.identity import LoginSession
from switchboard.errors import AuthenticationFailed
from switchboard.identity import repository
from switchboard.identity.records import UserRecord
from switchboard.identity.serverkey import ServerKey

DEFAULT_TIMEOUT = dt.timedelta(minutes=30)  # CloudStack's session.timeout default
# Writing `last_used` on every request would turn reads into writes; a minute's precision is enough.
_TOUCH_EVERY = dt.timedelta(minutes=1)


class SessionExpired(AuthenticationFailed):
    pass


class SessionStore:
    def __init__(self, server_key: ServerKey, *, timeout: dt.timedelta = DEFAULT_TIMEOUT,
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        self._key = server_key
        self.timeout = timeout
        self._clock = clock

    def open(self, session: Session, record: UserRecord, *, client_ip: str) -> str:
        """Start a session for `record`'s user; returns the session key (shown to the client once)."""
        token = secrets.token_urlsafe(32)
        now = self._clock()
        repository.add(session, LoginSession(key_digest=self._key.digest(token), user_id=record.user.id,
                                             created=now, last_used=now, client_ip=client_ip[:64]))
        return token

    def resolve(self, session: Session, token: str) -> UserRecord:
        """The user of a live session. Raises AuthenticationFailed for unknown, expired or disabled ones."""
        found = repository.find_session(session, self._key.digest(token))
        if found is None:
            raise AuthenticationFailed("unknown session")
        login, record = found
        now = self._clock()
        if now - login.last_used > self.timeout:
            raise SessionExpired("session expired")
        if not repository.is_active(record):
            raise AuthenticationFailed("user or account is not enabled")
        if now - login.last_used > _TOUCH_EVERY:
            login.last_used = now
        return record

    def close(self, session: Session, token: str) -> None:
        session.execute(delete(LoginSession).where(LoginSession.key_digest == self._key.digest(token)))

    def purge_expired(self, session: Session) -> int:
        """Delete sessions idle for longer than the timeout; returns how many."""
        result = session.execute(delete(LoginSession).where(LoginSession.last_used < self._clock() - self.timeout))
        return int(getattr(result, "rowcount", 0) or 0)

    def close_all_for_user(self, session: Session, user_id: int, *, keep: str | None = None) -> None:
        """End every session of the user, except the one whose key is `keep` (the caller's own)."""
        stmt = delete(LoginSession).where(LoginSession.user_id == user_id)
        if keep is not None:
            stmt = stmt.where(LoginSession.key_digest != self._key.digest(keep))
        session.execute(stmt)
