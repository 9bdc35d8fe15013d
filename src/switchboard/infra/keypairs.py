"""SSH key pairs: public keys an account registers (or has made) under a name, given to instances at deploy.

As CloudStack: a created pair is RSA 2048 and its private key is answered once and never stored; a
registered key is kept as "<type> <base64>" (its comment dropped); the fingerprint is the MD5 of the key
blob in colon-separated hex; names and keys are unique per account.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from switchboard.caller import Caller
from switchboard.db.models.guest_data import SshKeyPair
from switchboard.errors import InvalidParameter
from switchboard.infra.common import Page, fetch_page, matches
from switchboard.infra.owned import visible
from switchboard.infra.owners import Owner

__all__ = [
    "KEY_TYPES",
    "KeyPairFilter",
    "create_keypair",
    "delete_keypair",
    "fingerprint",
    "keypairs_named",
    "list_keypairs",
    "public_key_of",
    "register_keypair",
]

KEY_TYPES = ("ssh-rsa", "ssh-dss", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
             "ssh-ed25519")
KEY_BITS = 2048  # CloudStack's ssh.key.length


def public_key_of(material: str) -> str:
    """CloudStack's reading of `publickey`: "<type> <base64> [comment]" (or all of it base64-encoded once
    more) → "<type> <base64>". Unlike CloudStack, the blob must also decode and name the same type, so a
    key the guest could not use is refused here. InvalidParameter("Public key is invalid") otherwise."""
    text = material.strip()
    if " " not in text:
        try:
            text = base64.b64decode(text, validate=True).decode().strip()
        except (binascii.Error, UnicodeDecodeError):
            raise _invalid() from None
    parts = text.split()
    if len(parts) < 2 or parts[0] not in KEY_TYPES:
        raise _invalid()
    try:
        blob = base64.b64decode(parts[1], validate=True)
        (length,) = struct.unpack(">I", blob[:4])
        named = blob[4:4 + length].decode()
    except (binascii.Error, struct.error, UnicodeDecodeError):
        raise _invalid() from None
    if named != parts[0]:
        raise _invalid()
    return f"{parts[0]} {parts[1]}"


def _invalid() -> InvalidParameter:
    return InvalidParameter("Public key is invalid", parameter="publickey")


def fingerprint(public_key: str) -> str:
    """The MD5 of the key blob, as colon-separated hex (CloudStack's SSHKeysHelper)."""
    digest = hashlib.md5(base64.b64decode(public_key.split()[1]), usedforsecurity=False).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def _check_name(session: Session, owner: Owner, name: str, *, message: str) -> str:
    if not name or not name.strip():
        raise InvalidParameter("Please specify a valid name for the key pair. The key name can't be empty",
                               parameter="name")
    taken = session.scalar(select(SshKeyPair.id).where(SshKeyPair.account_id == owner.account_id,
                                                       SshKeyPair.name == name))
    if taken is not None:
        raise InvalidParameter(message.format(name=name), parameter="name")
    return name


def create_keypair(session: Session, owner: Owner, name: str) -> tuple[SshKeyPair, str]:
    """A new RSA key pair for `owner`; the pair and its private key (PEM), which is not stored."""
    _check_name(session, owner, name, message="A key pair with name '{name}' already exists.")
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH).decode()
    return _save(session, owner, name, public), private


def register_keypair(session: Session, owner: Owner, name: str, material: str) -> SshKeyPair:
    """Register `material` (an OpenSSH public key) under `name` for `owner`."""
    _check_name(session, owner, name, message="A key pair with name '{name}' already exists for this account.")
    public = public_key_of(material)
    same = session.scalar(select(SshKeyPair.id).where(SshKeyPair.account_id == owner.account_id,
                                                      SshKeyPair.public_key == public))
    if same is not None:
        raise InvalidParameter(f"A key pair with key '{material}' already exists for this account.",
                               parameter="publickey")
    return _save(session, owner, name, public)


def _save(session: Session, owner: Owner, name: str, public: str) -> SshKeyPair:
    pair = SshKeyPair(account_id=owner.account_id, domain_id=owner.domain_id, name=name, public_key=public,
                      fingerprint=fingerprint(public))
    session.add(pair)
    session.flush()
    return pair


def delete_keypair(session: Session, owner: Owner, name: str, *, account_name: str, domain_uuid: str) -> None:
    """Delete `owner`'s key pair `name` (instances keep the keys they were deployed with)."""
    removed = session.execute(delete(SshKeyPair).where(SshKeyPair.account_id == owner.account_id,
                                                       SshKeyPair.name == name))
    if not removed.rowcount:  # type: ignore[attr-defined]
        raise InvalidParameter(f"A key pair with name '{name}' does not exist for account {account_name} in "
                               "specified domain id", parameter="name", uuids=[domain_uuid])


def keypairs_named(session: Session, owner: Owner, names: Sequence[str]) -> list[SshKeyPair]:
    """`owner`'s key pairs called `names`, in that order; InvalidParameter unless all of them exist."""
    wanted = list(dict.fromkeys(names))
    found = {pair.name: pair for pair in session.scalars(
        select(SshKeyPair).where(SshKeyPair.account_id == owner.account_id, SshKeyPair.name.in_(wanted)))}
    if len(found) != len(wanted):
        raise InvalidParameter("Not all specified keypairs exist", parameter="keypairs")
    return [found[name] for name in wanted]


@dataclass(frozen=True, kw_only=True)
class KeyPairFilter:
    uuid: str | None = None
    name: str | None = None
    fingerprint: str | None = None
    account_id: int | None = None
    list_all: bool = False


def list_keypairs(session: Session, caller: Caller, page: Page,
                  filters: KeyPairFilter) -> tuple[Sequence[SshKeyPair], int]:
    """The key pairs the caller may see, newest first (CloudStack orders them by id, descending)."""
    stmt = select(SshKeyPair).where(visible(caller, SshKeyPair.account_id, list_all=filters.list_all,
                                            account_id=filters.account_id, by_id=filters.uuid is not None))
    for column, value in ((SshKeyPair.uuid, filters.uuid), (SshKeyPair.name, filters.name),
                          (SshKeyPair.fingerprint, filters.fingerprint)):
        if value is not None:
            stmt = stmt.where(column == value)
    if page.keyword:
        stmt = stmt.where(or_(matches(SshKeyPair.name, page.keyword), matches(SshKeyPair.fingerprint, page.keyword)))
    rows, total = fetch_page(session, stmt.order_by(SshKeyPair.id.desc()), page)
    return [row[0] for row in rows], total
