"""First start: the four default roles, the ROOT domain, and the admin account, user and API keys."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from switchboard.db.engine import is_postgres
from switchboard.db.models.identity import Account, Domain, Role, User
from switchboard.identity import apikeys, paths
from switchboard.identity.passwords import hash_password
from switchboard.identity.records import KeyPair
from switchboard.identity.serverkey import ServerKey
from switchboard.roles import RoleType

# CloudStack's default roles (ids 1-4 on a fresh CloudStack), in the same order.
DEFAULT_ROLES: tuple[tuple[str, RoleType, str], ...] = (
    ("Root Admin", RoleType.ADMIN, "Default root admin role"),
    ("Resource Admin", RoleType.RESOURCE_ADMIN, "Default resource admin role"),
    ("Domain Admin", RoleType.DOMAIN_ADMIN, "Default domain admin role"),
    ("User", RoleType.USER, "Default Root Admin role"),
)
ADMIN_USERNAME = "admin"
# Serialises first starts of several servers on one PostgreSQL database.
_BOOTSTRAP_LOCK = 7312002


@dataclass(frozen=True)
class Bootstrapped:
    """What a first start created; `admin_password` is None when the password was supplied by the operator."""

    admin_password: str | None
    admin_keys: KeyPair


def bootstrap(session: Session, server_key: ServerKey, *, admin_password: str | None = None) -> Bootstrapped | None:
    """Create the initial identity objects unless the ROOT domain already exists (then return None)."""
    if is_postgres(session.get_bind().engine):
        session.execute(select(func.pg_advisory_xact_lock(_BOOTSTRAP_LOCK)))
    if session.scalars(select(Domain.id).where(Domain.path == paths.ROOT_PATH)).first() is not None:
        return None
    roles = [
        Role(name=name, role_type=role_type.wire_name, description=text, is_default=True, is_public=True)
        for name, role_type, text in DEFAULT_ROLES
    ]
    root = Domain(name=paths.ROOT_NAME, path=paths.ROOT_PATH, level=0)
    session.add_all([*roles, root])
    session.flush()
    account = Account(name=ADMIN_USERNAME, domain_id=root.id, role_id=roles[0].id, is_default=True)
    session.add(account)
    session.flush()
    generated = admin_password is None
    password = admin_password or secrets.token_urlsafe(12)
    user = User(
        username=ADMIN_USERNAME, account_id=account.id, domain_id=root.id, password_hash=hash_password(password),
        firstname="Admin", lastname="User", is_default=True,
    )
    keys = apikeys.assign(user, server_key)
    session.add(user)
    session.flush()
    return Bootstrapped(admin_password=password if generated else None, admin_keys=keys)
