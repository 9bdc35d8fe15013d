"""Wiring of the identity area: the server key, first-start bootstrap, the service and the authenticator.

Environment knobs (all optional):
* SWITCHBOARD_ADMIN_PASSWORD — the admin password to set on first start (otherwise one is generated and
  printed once).
* SWITCHBOARD_ENFORCE_SIGNATURE_TIMESTAMPS=true — CloudStack's `enforce.post.requests.and.timestamps`:
  signed requests must use signatureversion=3 and `expires` at most 15 minutes ahead.
* SWITCHBOARD_KEY_CACHE_TTL — seconds a verified API key stays cached in the process (default 10). Only a
  backstop for changes made to the database by other means: keys revoked, regenerated or disabled through
  any server are refused at once (see `switchboard.identity.credentials`).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from switchboard.identity import SERVICE_NAME
from switchboard.identity.authenticator import IdentityAuthenticator
from switchboard.identity.bootstrap import Bootstrapped, bootstrap
from switchboard.identity.cache import KeyCache
from switchboard.identity.serverkey import ServerKey
from switchboard.identity.service import IdentityService
from switchboard.identity.sessions import SessionStore

if TYPE_CHECKING:
    from switchboard.server import ServerParts


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def announce(result: Bootstrapped) -> None:
    """Tell the operator, on the console and not in the log, what the first start created."""
    lines = ["", "Switchboard first start: created the ROOT domain and the admin account (user 'admin')."]
    if result.admin_password is not None:
        lines.append(f"  admin password:   {result.admin_password}   (shown only this once)")
    lines += [
        f"  admin API key:    {result.admin_keys.api_key}",
        f"  admin secret key: {result.admin_keys.secret_key}",
        "  (`switchboard admin api-keys` prints the key pair again.)",
        "",
    ]
    print("\n".join(lines), file=sys.stdout, flush=True)


def _register_job_handlers(parts: ServerParts, service: IdentityService) -> None:
    # The jobs area is wired after this one, so its handler registry exists only once start-up runs.
    from switchboard.api.commands.identity import DISABLE_USER_JOB, run_disable_user

    jobs = parts.services.registry.get("jobs")
    if jobs is not None and DISABLE_USER_JOB not in jobs.handlers:
        jobs.handlers.register(DISABLE_USER_JOB, lambda ctx: run_disable_user(ctx, service))


def wire(parts: ServerParts) -> None:
    settings = parts.services.settings
    db = parts.services.db
    server_key = ServerKey.load_or_create(settings.key_file)
    cache = KeyCache(ttl=float(os.environ.get("SWITCHBOARD_KEY_CACHE_TTL", "10")))
    sessions = SessionStore(server_key)
    service = IdentityService(server_key=server_key, sessions=sessions, cache=cache)
    with db.session() as session:
        created = bootstrap(session, server_key, admin_password=os.environ.get("SWITCHBOARD_ADMIN_PASSWORD") or None)
        sessions.purge_expired(session)
    if created is not None:
        announce(created)
    parts.services.registry[SERVICE_NAME] = service
    parts.services.registry["server_key"] = server_key
    parts.startup.insert(0, lambda: _register_job_handlers(parts, service))
    parts.authenticator = IdentityAuthenticator(
        server_key=server_key,
        sessions=sessions,
        cache=cache,
        enforce_timestamps=_flag("SWITCHBOARD_ENFORCE_SIGNATURE_TIMESTAMPS"),
    )
