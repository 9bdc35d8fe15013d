"""Who is calling: the authenticated user with its account, domain and role."""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.roles import RoleType


@dataclass(frozen=True, kw_only=True)
class Caller:
    user_id: int
    user_uuid: str
    username: str
    account_id: int
    account_uuid: str
    account_name: str
    domain_id: int
    domain_uuid: str
    domain_path: str
    role_id: int
    role_uuid: str
    role_name: str
    role_type: RoleType
    session_key: str | None = None  # set when the call came through a login session

    @property
    def is_admin(self) -> bool:
        return self.role_type is RoleType.ADMIN
