"""Administrative tasks run from the command line against the server's database and key file."""

from __future__ import annotations

import json
import os
import sys

from switchboard.db.engine import Database
from switchboard.db.migrate import upgrade
from switchboard.errors import SwitchboardError
from switchboard.identity.bootstrap import bootstrap
from switchboard.identity.cache import KeyCache
from switchboard.identity.serverkey import ServerKey
from switchboard.identity.service import IdentityService
from switchboard.identity.sessions import SessionStore
from switchboard.settings import Settings


def api_keys(settings: Settings, *, username: str) -> int:
    """Print `{"apikey": ..., "secretkey": ...}` for `username` in the ROOT domain, creating the pair if the
    user has none. Migrates and bootstraps a fresh database first. Returns the process exit code (1 when the
    user does not exist or the key file does not fit the database)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    settings.key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    db = Database.from_url(settings.database_url)
    try:
        upgrade(db.engine)
        server_key = ServerKey.load_or_create(settings.key_file)
        service = IdentityService(server_key=server_key, sessions=SessionStore(server_key), cache=KeyCache())
        with db.session() as session:
            created = bootstrap(session, server_key,
                                admin_password=os.environ.get("SWITCHBOARD_ADMIN_PASSWORD") or None)
            pair = service.ensure_keys(session, username=username)
    except SwitchboardError as error:
        print(f"switchboard admin api-keys: {error.message}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    if created is not None and created.admin_password is not None:
        print(f"first start: the admin password is {created.admin_password} (shown only this once)",
              file=sys.stderr)
    print(json.dumps({"apikey": pair.api_key, "secretkey": pair.secret_key}))
    return 0
