"""Administrative tasks run from the command line against the server's database and key file."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from switchboard.db.engine import Database
from switchboard.db.migrate import upgrade
from switchboard.errors import SwitchboardError
from switchboard.identity.bootstrap import Bootstrapped, bootstrap
from switchboard.identity.cache import KeyCache
from switchboard.identity.credentials import CredentialChanges
from switchboard.identity.handover import hand_over
from switchboard.identity.keys import ApiKeys
from switchboard.identity.password_policy import generate_password
from switchboard.identity.serverkey import ServerKey
from switchboard.identity.sessions import SessionStore
from switchboard.identity.users import Users
from switchboard.settings import Settings


@contextmanager
def _database(settings: Settings) -> Iterator[tuple[Database, ServerKey]]:
    """The migrated database and the server key (both created on a fresh data directory)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    settings.server_key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    db = Database.from_url(settings.database_url)
    try:
        upgrade(db.engine)
        yield db, ServerKey.load_or_create(settings.server_key_file)
    finally:
        db.dispose()


def _first_start(settings: Settings, created: Bootstrapped | None) -> None:
    if created is not None and created.admin_password is not None:
        hand_over([f"first start: the admin password is {created.admin_password} (shown only this once)"],
                  data_dir=settings.data_dir, what="the first start's admin password", stream=sys.stderr)


def api_keys(settings: Settings, *, username: str) -> int:
    """Print `{"apikey": ..., "secretkey": ...}` for `username` in the ROOT domain, creating the pair if the
    user has none. Migrates and bootstraps a fresh database first. Returns the process exit code (1 when the
    user does not exist or the key file does not fit the database)."""
    try:
        with _database(settings) as (db, server_key), db.session() as session:
            keys = ApiKeys(server_key=server_key, credentials=CredentialChanges(KeyCache()))
            created = bootstrap(session, server_key, admin_password=settings.admin_password_clear)
            pair = keys.ensure_keys(session, username=username)
    except SwitchboardError as error:
        print(f"switchboard admin api-keys: {error.message}", file=sys.stderr)
        return 1
    _first_start(settings, created)
    print(json.dumps({"apikey": pair.api_key, "secretkey": pair.secret_key}))
    return 0


def reset_password(settings: Settings, *, username: str, domain: str, password_from: TextIO | None = None) -> int:
    """Give a user (by default the ROOT admin) a new password: read from `password_from` (one line) when
    given, else a random one handed over as the first start's was (terminal, else a 0600 file). Every login
    session of the user ends; its API keys stay. Returns the exit code (1: no such user, or the password
    breaks the password policy)."""
    generated = password_from is None
    password = generate_password() if password_from is None else password_from.readline().rstrip("\r\n")
    try:
        with _database(settings) as (db, server_key), db.session() as session:
            credentials = CredentialChanges(KeyCache())
            users = Users(sessions=SessionStore(server_key), credentials=credentials)
            created = bootstrap(session, server_key, admin_password=settings.admin_password_clear)
            record = users.reset_password(session, username=username, domain_path=domain, password=password)
    except SwitchboardError as error:
        print(f"switchboard admin reset-password: {error.message}", file=sys.stderr)
        return 1
    _first_start(settings, created)
    if generated:
        hand_over([f"the new password of {record.user.username} is {password}"], data_dir=settings.data_dir,
                  what=f"the new password of {record.user.username}")
    print(f"the password of {record.user.username} was reset; its login sessions have ended", file=sys.stderr)
    return 0
