"""The credentials generation: a database-wide counter of changes that may revoke an API key.

Every such change (a new key pair, a user's state, name or password, the `api.key.access` setting) bumps
it inside its own transaction. A server caches what verifying an API key needs under the generation it
read before loading it, and reads the counter again on every signed request: a cached entry is used only
while the generation is unchanged, so a revocation committed through any server on the same database
takes effect everywhere for the next request.
"""

from __future__ import annotations

from sqlalchemy import Connection, insert, update
from sqlalchemy.orm import Session

from switchboard.db.direct import read_first_row
from switchboard.db.models.identity import CredentialsGeneration
from switchboard.identity.cache import KeyCache

_READ = "SELECT generation FROM credentials_generation WHERE id = 1"
# Built once: this runs on every signed request.
_BUMP = (update(CredentialsGeneration).where(CredentialsGeneration.id == 1)
         .values(generation=CredentialsGeneration.generation + 1)
         .execution_options(synchronize_session=False))


def current(connection: Connection) -> int:
    """The generation as committed now (0 before the first change). One primary-key read."""
    row = read_first_row(connection, _READ)
    return int(row[0]) if row is not None else 0


def bump(session: Session) -> None:
    """Record, in the session's transaction, that credentials changed (takes the row's write lock)."""
    result = session.execute(_BUMP)
    if getattr(result, "rowcount", 1) == 0:  # the row is made by migration 0007; a database without it
        session.execute(insert(CredentialsGeneration).values(id=1, generation=1))


class CredentialChanges:
    """Records a change API-key verification depends on: in the database, so that every server stops using
    what it cached, and at once in this process's key cache."""

    def __init__(self, cache: KeyCache) -> None:
        self._cache = cache

    def record(self, session: Session) -> None:
        """Bump the generation in the session's transaction and forget this process's cached keys."""
        bump(session)
        self._cache.clear()
