"""Identity tables: domains, roles, accounts, users and login sessions.

What the database holds is not enough to forge a request: passwords are argon2id hashes, API secret keys
are sealed (AES-GCM) with a key that only the server's key file holds, and login sessions are stored as
HMAC digests keyed by that same file.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from switchboard.db.base import Base, TimestampMixin, UtcDateTime, UuidMixin, utcnow


class Domain(UuidMixin, TimestampMixin, Base):
    """A node of the domain tree. `path` is "/" for ROOT and "/a/b/" below it (prefix-searchable)."""

    __tablename__ = "domains"

    name: Mapped[str] = mapped_column(String(255))
    path: Mapped[str] = mapped_column(String(1024), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("domains.id"), default=None)
    level: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default="Active")
    network_domain: Mapped[str | None] = mapped_column(String(255), default=None)


class Role(UuidMixin, TimestampMixin, Base):
    """A named role; `role_type` is the wire name of a RoleType (Admin, ResourceAdmin, DomainAdmin, User)."""

    __tablename__ = "roles"

    name: Mapped[str] = mapped_column(String(255), unique=True)
    role_type: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(1024), default="")
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)


class Account(UuidMixin, TimestampMixin, Base):
    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("domain_id", "name", name="uq_accounts_domain_id_name"),)

    name: Mapped[str] = mapped_column(String(255))
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id"), index=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id"))
    state: Mapped[str] = mapped_column(String(16), default="enabled")
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)

    domain: Mapped[Domain] = relationship(lazy="raise")
    role: Mapped[Role] = relationship(lazy="raise")


class User(UuidMixin, TimestampMixin, Base):
    """A user of an account. `domain_id` repeats the account's domain: usernames are unique per domain."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("domain_id", "username", name="uq_users_domain_id_username"),)

    username: Mapped[str] = mapped_column(String(255))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id"))
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    firstname: Mapped[str] = mapped_column(String(255), default="")
    lastname: Mapped[str] = mapped_column(String(255), default="")
    email: Mapped[str] = mapped_column(String(255), default="")
    timezone: Mapped[str | None] = mapped_column(String(64), default=None)
    state: Mapped[str] = mapped_column(String(16), default="enabled")
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(32), default="native")
    api_key: Mapped[str | None] = mapped_column(String(128), unique=True, default=None)
    # AES-GCM(nonce || ciphertext) of the secret key, bound to `api_key` as associated data.
    secret_key_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)

    account: Mapped[Account] = relationship(lazy="raise")


class LoginSession(Base):
    """A login session. Only an HMAC digest of the session key is kept; the key itself lives in the client."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    key_digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_used: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    client_ip: Mapped[str] = mapped_column(String(64), default="")


class CredentialsGeneration(Base):
    """One row (id 1) whose `generation` grows with every change that may revoke an API key: a new key
    pair, a user's state, name or password, `api.key.access`. Servers cache verified API keys per
    generation and read this row on every signed request, so a revocation made through any server on
    the same database is honoured by all of them at once."""

    __tablename__ = "credentials_generation"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(BigInteger, default=0)


class ResourceLimit(Base):
    """A resource limit set with updateResourceLimit for one account or one domain (`owner_type`
    "account"/"domain", `owner_id` its id): at most `max` of CloudStack's resource type `type` (0 instances,
    8 CPU cores, 9 memory in MiB); -1 is unlimited. Without a row the settings' defaults apply
    (max.account.*, max.domain.*)."""

    __tablename__ = "resource_limit"
    __table_args__ = (UniqueConstraint("owner_type", "owner_id", "type"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    owner_type: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[int] = mapped_column(Integer)
    type: Mapped[int] = mapped_column(Integer)
    max: Mapped[int] = mapped_column(BigInteger)
