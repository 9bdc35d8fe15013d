"""The API's authenticator: signed requests (apikey + signature) and login sessions (sessionkey + cookie).

Every failure raises the same AuthenticationFailed (401, one fixed text) so a client learns nothing about
which part was wrong; the reason is logged with a shortened API key and never with a secret.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
from collections.abc import Callable

from sqlalchemy.orm import Session

from switchboard import configuration
from switchboard.api.call import RequestMeta
from switchboard.api.params import RawRequest
from switchboard.api.request_db import RequestDb
from switchboard.api.signing import SignatureRejected, VerifiedRequests, check_validity
from switchboard.caller import Caller
from switchboard.db.base import utcnow
from switchboard.errors import AuthenticationFailed
from switchboard.identity import credentials, repository
from switchboard.identity.cache import KeyCache, KeyEntry
from switchboard.identity.serverkey import ServerKey, UnsealError
from switchboard.identity.sessions import SessionStore

log = logging.getLogger(__name__)

SESSION_COOKIE = "sessionkey"
FAILURE_TEXT = "unable to verify user credentials and/or request signature"


class _Rejected(AuthenticationFailed):
    def __init__(self, reason: str, *, anonymous: bool = False) -> None:
        super().__init__(FAILURE_TEXT)
        self.reason = reason
        self.anonymous = anonymous


def _short(api_key: str) -> str:
    return f"{api_key[:8]}…" if len(api_key) > 8 else api_key


class IdentityAuthenticator:
    """Implements `switchboard.api.auth.Authenticator`."""

    def __init__(
        self,
        *,
        server_key: ServerKey,
        sessions: SessionStore,
        cache: KeyCache,
        enforce_timestamps: bool = False,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._server_key = server_key
        self._sessions = sessions
        self._cache = cache
        self._enforce = enforce_timestamps
        self._clock = clock
        self._verified = VerifiedRequests()

    def authenticate(self, db: RequestDb, raw: RawRequest, meta: RequestMeta) -> Caller:
        try:
            if "apikey" in raw.scalars or "signature" in raw.scalars:
                return self._signed(db, raw)
            if "sessionkey" in raw.scalars or SESSION_COOKIE in meta.cookies:
                return self._session(db.session, raw, meta)
            raise _Rejected("no API key and no session", anonymous=True)
        except (_Rejected, SignatureRejected) as failure:
            # A request without any credentials is a probe or a client not logged in yet, not an attack.
            level = logging.INFO if getattr(failure, "anonymous", False) else logging.WARNING
            log.log(level, "API request refused from %s (command %s): %s", meta.client_ip or "?",
                    raw.scalars.get("command", "?"), failure.reason)
            raise AuthenticationFailed(FAILURE_TEXT) from None

    def _signed(self, db: RequestDb, raw: RawRequest) -> Caller:
        api_key = raw.scalars.get("apikey", "")
        signature = raw.scalars.get("signature", "")
        if not api_key or not signature:
            raise _Rejected("API key or signature missing")
        entry = self._entry(db, api_key)
        if entry is None:
            raise _Rejected(f"unknown API key {_short(api_key)}")
        if not entry.active:
            raise _Rejected(f"user {entry.caller.username} (API key {_short(api_key)}) or its account is disabled")
        if not entry.api_access:
            raise _Rejected(f"API key access is disabled (api.key.access) for the account of {entry.caller.username}")
        try:
            check_validity(raw.scalars, now=self._clock(), enforce_timestamps=self._enforce)
            self._verified.verify(raw.pairs, entry.secret_key, signature)
        except SignatureRejected as failure:
            raise _Rejected(f"{failure.reason} (API key {_short(api_key)})") from None
        return entry.caller

    def _entry(self, db: RequestDb, api_key: str) -> KeyEntry | None:
        # Read before any loading: an entry is then only ever used under the generation it was loaded in.
        generation = credentials.current(db.connection)
        entry = self._cache.get(api_key, generation)
        if entry is not None:
            return entry
        holder = repository.find_key_holder(db.connection, api_key)
        if holder is None or holder.secret_key_sealed is None:
            return None
        try:
            secret = self._server_key.unseal(holder.secret_key_sealed, bound_to=api_key)
        except UnsealError:
            log.error("the secret of API key %s does not open with this server's key file: was the key file "
                      "replaced, or does another server use a different one?", _short(api_key))
            return None
        caller = holder.caller
        entry = KeyEntry(caller=caller, secret_key=secret.encode(), active=holder.active,
                         api_access=configuration.is_enabled(db.session, "api.key.access",
                                                             account_id=caller.account_id,
                                                             domain_path=holder.domain_path_stored),
                         loaded_at=self._cache.now(), generation=generation)
        self._cache.put(api_key, entry)
        return entry

    def _session(self, session: Session, raw: RawRequest, meta: RequestMeta) -> Caller:
        token = raw.scalars.get("sessionkey", "")
        cookie = meta.cookies.get(SESSION_COOKIE, "")
        # The key must come both as a parameter and as the cookie: a cookie alone would let any page the
        # browser visits call the API (CSRF), a parameter alone would let a leaked URL replay it.
        if not token or not cookie:
            raise _Rejected("session request without both the sessionkey parameter and cookie")
        if not hmac.compare_digest(token.encode(), cookie.encode()):
            raise _Rejected("sessionkey parameter does not match the session cookie")
        try:
            record = self._sessions.resolve(session, token)
        except AuthenticationFailed as failure:
            raise _Rejected(failure.message) from None
        return repository.make_caller(record, session_key=token)
