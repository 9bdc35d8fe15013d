"""Login and logout: a password checked against its argon2id hash opens a login session."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from switchboard.caller import Caller
from switchboard.db.models.identity import Domain, User
from switchboard.errors import AuthenticationFailed
from switchboard.identity import paths, repository
from switchboard.identity.passwords import hash_password, needs_rehash, verify_password
from switchboard.identity.records import UserRecord
from switchboard.identity.sessions import SessionStore
from switchboard.identity.throttle import LoginThrottle


class Login:
    def __init__(self, sessions: SessionStore, throttle: LoginThrottle | None = None) -> None:
        self._sessions = sessions
        self._throttle = throttle or LoginThrottle()

    @property
    def session_timeout(self) -> dt.timedelta:
        """How long an idle login session lasts."""
        return self._sessions.timeout

    def login(self, session: Session, *, username: str, password: str, domain_path: str | None = None,
              domain_id: str | None = None, client_ip: str = "") -> tuple[UserRecord, str]:
        """Check the password (argon2id) and open a session. Raises AuthenticationFailed, never saying why,
        and TooManyRequests - before any hashing - while the user or `client_ip` has failed too often.

        The domain is `domain_id` (an internal id or a UUID) when given, else `domain_path`, else ROOT."""
        throttled = LoginThrottle.user_key(domain_id or paths.stored(domain_path or "/"), username)
        self._throttle.check(user=throttled, address=client_ip)
        if domain_id:
            # CloudStack's domainId is the internal id; Switchboard also takes the UUID the API shows.
            numeric = domain_id.isdigit() and len(domain_id) < 10
            key = Domain.id == int(domain_id) if numeric else Domain.uuid == domain_id
            domain = repository.find_domain(session, key)
        else:
            domain = repository.find_domain(session, Domain.path == paths.stored(domain_path or "/"))
        record = (repository.find_user(session, User.username == username, User.domain_id == domain.id)
                  if domain is not None else None)
        valid = verify_password(record.user.password_hash if record else None, password)
        if record is None or not valid or not repository.is_active(record):
            self._throttle.failed(user=throttled, address=client_ip)
            shown_domain = domain_id or domain_path or "/"
            raise AuthenticationFailed(
                f"Failed to authenticate user {username} in domain {shown_domain}; please provide valid credentials"
            )
        if record.user.password_hash and needs_rehash(record.user.password_hash):
            record.user.password_hash = hash_password(password)  # upgrade hashes made with other parameters
        return record, self._sessions.open(session, record, client_ip=client_ip)

    def logout(self, session: Session, caller: Caller) -> None:
        """End the caller's login session (a no-op for API-key callers)."""
        if caller.session_key:
            self._sessions.close(session, caller.session_key)
