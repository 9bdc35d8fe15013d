"""API key pairs: the secret is sealed with the server key at rest and shown only to who may manage the user."""

from __future__ import annotations

from sqlalchemy.orm import Session

from switchboard.caller import Caller
from switchboard.db.models.identity import Domain, User
from switchboard.errors import NotFound
from switchboard.identity import apikeys, paths, repository
from switchboard.identity.credentials import CredentialChanges
from switchboard.identity.records import KeyPair
from switchboard.identity.serverkey import ServerKey
from switchboard.identity.users import user_for


class ApiKeys:
    def __init__(self, *, server_key: ServerKey, credentials: CredentialChanges) -> None:
        self._server_key = server_key
        self._credentials = credentials

    def register_keys(self, session: Session, caller: Caller, user_uuid: str) -> KeyPair:
        """Give the user a new key pair; the old one stops working at once in this process."""
        record = user_for(session, caller, user_uuid)
        pair = apikeys.assign(record.user, self._server_key)
        session.flush()
        self._credentials.record(session)
        return pair

    def get_keys(self, session: Session, caller: Caller, user_uuid: str) -> KeyPair | None:
        """The user's key pair in the clear (None if it has none). Raises NotFound/PermissionDenied."""
        return apikeys.reveal(user_for(session, caller, user_uuid).user, self._server_key)

    def ensure_keys(self, session: Session, *, username: str, domain_path: str = "/") -> KeyPair:
        """The user's key pair, created when it has none (for `switchboard admin api-keys`)."""
        domain = repository.find_domain(session, Domain.path == paths.stored(domain_path))
        record = (repository.find_user(session, User.username == username, User.domain_id == domain.id)
                  if domain else None)
        if record is None:
            raise NotFound(f"No user {username} in domain {domain_path}")
        pair = apikeys.reveal(record.user, self._server_key)
        if pair is None:
            pair = apikeys.assign(record.user, self._server_key)
            session.flush()
            self._credentials.record(session)
        return pair
