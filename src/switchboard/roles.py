"""Role types, as CloudStack names them, with the bit each one has in a role mask."""

from __future__ import annotations

import enum


class RoleType(enum.Enum):
    ADMIN = ("Admin", 1)
    RESOURCE_ADMIN = ("ResourceAdmin", 2)
    DOMAIN_ADMIN = ("DomainAdmin", 4)
    USER = ("User", 8)

    def __init__(self, wire_name: str, bit: int) -> None:
        self.wire_name = wire_name
        self.bit = bit

    @classmethod
    def from_wire(cls, name: str) -> RoleType:
        """Parse CloudStack's case-sensitive role-type name; ValueError names the accepted ones."""
        for role in cls:
            if role.wire_name == name:
                return role
        raise ValueError(f"Invalid role type: {name}; expected one of {', '.join(r.wire_name for r in cls)}")

    @classmethod
    def from_mask(cls, mask: int) -> list[RoleType]:
        return [role for role in cls if mask & role.bit]

    @staticmethod
    def mask_of(roles: set[RoleType] | list[RoleType]) -> int:
        mask = 0
        for role in roles:
            mask |= role.bit
        return mask


ALL_ROLES = frozenset(RoleType)
ADMIN_ONLY = frozenset({RoleType.ADMIN})
