"""What a guest is given at boot: SSH key pairs, registered user data, and the user data of each instance.

* `ssh_keypair` — a public key registered (or created) under a name in an account (CloudStack's
  `ssh_keypairs`). The private key of a created pair is shown once and never stored. Deleted for good.
* `user_data` — base64 user data registered under a name in an account, with the names of the variables
  it declares (`params`); soft-deleted, since instances keep referring to what they were deployed with.
* `instance_user_data` — the user data an instance was deployed with (CloudStack keeps it on `user_vm`):
  the base64 content, the registered user data it came from, and `details`, the variables' values in
  CloudStack's `{k=v, k2=v2}` form.

An instance's key pairs are its details `SSH.PublicKey` (the public keys, one per line) and
`SSH.KeyPairNames` (their names, comma-separated), as CloudStack stores them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.db.base import Base, TimestampMixin, UtcDateTime, UuidMixin, utcnow


class SshKeyPair(UuidMixin, Base):
    __tablename__ = "ssh_keypair"
    __table_args__ = (UniqueConstraint("account_id", "name"),)

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(128))
    public_key: Mapped[str] = mapped_column(Text)
    created: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class UserData(UuidMixin, TimestampMixin, Base):
    __tablename__ = "user_data"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    content: Mapped[str] = mapped_column(Text)  # base64
    params: Mapped[str | None] = mapped_column(String(4096), default=None)  # comma-separated variable names


class InstanceUserData(Base):
    __tablename__ = "instance_user_data"

    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id", ondelete="CASCADE"), primary_key=True)
    content: Mapped[str | None] = mapped_column(Text, default=None)  # base64
    user_data_id: Mapped[int | None] = mapped_column(ForeignKey("user_data.id"), default=None, index=True)
    details: Mapped[str | None] = mapped_column(Text, default=None)  # "{k=v, k2=v2}"
