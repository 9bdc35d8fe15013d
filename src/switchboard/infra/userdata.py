"""User data: base64 content an account registers under a name, or gives an instance at deploy.

CloudStack's rules: user data must be base64 (URL-encoded forms are decoded first; it is stored re-encoded,
padded), at most 4 KiB of base64 in a GET and 1 MiB in a POST, and never longer than the setting
`vm.userdata.max.length` (base64 characters, default 32768). Names and contents are unique per account.
Registered user data in use by an instance cannot be deleted. `params` names the variables the content
declares; a deploy gives their values as `userdatadetails`, which reach the guest as metadata files.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from switchboard.caller import Caller
from switchboard.db.base import utcnow
from switchboard.db.models.compute import Instance
from switchboard.db.models.guest_data import InstanceUserData, UserData
from switchboard.errors import InvalidParameter, OperationFailed
from switchboard.infra.common import Page, fetch_page, matches
from switchboard.infra.owned import visible
from switchboard.infra.owners import Owner

__all__ = [
    "MAX_GET",
    "MAX_LENGTH_DEFAULT",
    "MAX_POST",
    "UserDataFilter",
    "delete_user_data",
    "details_text",
    "get_user_data",
    "list_user_data",
    "parse_details_text",
    "register_user_data",
    "validate_user_data",
]

MAX_GET = 4096  # base64 characters a GET may carry
MAX_POST = 1024 * 1024  # and a POST
MAX_LENGTH_DEFAULT = 32768  # vm.userdata.max.length
_BASE64 = re.compile(r"^[A-Za-z0-9+/\s]*={0,2}\s*$")


def validate_user_data(text: str | None, *, method: str, max_length: int, parameter: str = "userdata") -> str | None:
    """`text` checked as CloudStack checks it and re-encoded (padded); None for blank input."""
    if text is None or not text.strip():
        return None
    if "%" in text:
        text = unquote(text)
    if not _BASE64.match(text):
        raise InvalidParameter("User data is not base64 encoded.", parameter=parameter)
    compact = re.sub(r"\s", "", text)
    try:
        decoded = base64.b64decode(compact + "=" * (-len(compact) % 4))
    except binascii.Error:
        raise InvalidParameter("User data is not base64 encoded.", parameter=parameter) from None
    if not decoded:
        raise InvalidParameter("User data is too short.", parameter=parameter)
    limit = MAX_GET if method.upper() == "GET" else MAX_POST
    if len(text) > limit:
        raise InvalidParameter(f"User data is too long for http {method.upper()} request", parameter=parameter)
    if len(text) > max_length:
        raise InvalidParameter(f"User data has exceeded configurable max length: {max_length}", parameter=parameter)
    return base64.b64encode(decoded).decode()


def details_text(details: Mapping[str, str] | None) -> str | None:
    """`userdatadetails` as CloudStack stores it: Java's Map.toString(), `{k=v, k2=v2}`."""
    if not details:
        return None
    return "{" + ", ".join(f"{key}={value}" for key, value in details.items()) + "}"


def parse_details_text(text: str | None) -> list[tuple[str, str]]:
    """The (key, value) pairs of a stored `{k=v, k2=v2}` (as CloudStack's addUserDataDetailsToCommand)."""
    if not text or len(text) < 2:
        return []
    pairs = []
    for part in text[1:-1].split(","):
        key, sep, value = part.strip().partition("=")
        if sep and key:
            pairs.append((key, value))
    return pairs


def _unique(session: Session, owner: Owner, *, name: str, content: str) -> None:
    same_name = session.scalar(select(UserData.id).where(UserData.account_id == owner.account_id,
                                                         UserData.name == name, UserData.removed.is_(None)))
    if same_name is not None:
        raise InvalidParameter(f"A userdata with name {name} already exists for this account.", parameter="name")
    same = session.scalar(select(UserData.name).where(UserData.account_id == owner.account_id,
                                                      UserData.content == content, UserData.removed.is_(None)))
    if same is not None:
        raise InvalidParameter(f"Userdata {same} with same content already exists for this account.",
                               parameter="userdata")


def register_user_data(session: Session, owner: Owner, *, name: str, content: str | None, params: str | None,
                       method: str, max_length: int) -> UserData:
    if not name or not name.strip():
        raise InvalidParameter("Name of the user data must not be empty", parameter="name")
    encoded = validate_user_data(content, method=method, max_length=max_length)
    if encoded is None:
        raise InvalidParameter("Unable to execute API command registeruserdata due to missing parameter userdata",
                               parameter="userdata")
    _unique(session, owner, name=name, content=encoded)
    names = ",".join(part.strip() for part in (params or "").split(",") if part.strip()) or None
    row = UserData(account_id=owner.account_id, domain_id=owner.domain_id, name=name, content=encoded, params=names)
    session.add(row)
    session.flush()
    return row


def get_user_data(session: Session, uuid: str, *, parameter: str = "userdataid") -> UserData:
    row = session.scalar(select(UserData).where(UserData.uuid == uuid, UserData.removed.is_(None)))
    if row is None:
        raise InvalidParameter(f"Unable to find userdata by id {uuid}", parameter=parameter, uuids=[uuid])
    return row


def delete_user_data(session: Session, row: UserData) -> None:
    """Soft-delete; refused (530, CloudStack's text) while a live instance was deployed with it."""
    used = session.scalar(select(InstanceUserData.instance_id)
                          .join(Instance, Instance.id == InstanceUserData.instance_id)
                          .where(InstanceUserData.user_data_id == row.id, Instance.removed.is_(None)).limit(1))
    if used is not None:
        raise OperationFailed(f"Userdata {row.name} cannot be removed as it is being used by some VMs",
                              uuids=[row.uuid])
    row.removed = utcnow()
    session.flush()


@dataclass(frozen=True, kw_only=True)
class UserDataFilter:
    uuid: str | None = None
    name: str | None = None
    account_id: int | None = None
    list_all: bool = False


def list_user_data(session: Session, caller: Caller, page: Page,
                   filters: UserDataFilter) -> tuple[Sequence[UserData], int]:
    """Registered user data the caller may see, newest first."""
    stmt = select(UserData).where(UserData.removed.is_(None),
                                  visible(caller, UserData.account_id, list_all=filters.list_all,
                                          account_id=filters.account_id, by_id=filters.uuid is not None))
    if filters.uuid is not None:
        stmt = stmt.where(UserData.uuid == filters.uuid)
    if filters.name is not None:
        stmt = stmt.where(UserData.name == filters.name)
    if page.keyword:
        stmt = stmt.where(or_(matches(UserData.name, page.keyword)))
    rows, total = fetch_page(session, stmt.order_by(UserData.id.desc()), page)
    return [row[0] for row in rows], total
