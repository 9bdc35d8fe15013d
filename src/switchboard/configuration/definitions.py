"""The settings operators may change through the API, each with its type, default and allowed scopes.

A value set at a narrower scope wins: account, then the account's domain and its ancestors (nearest
first), then global, then the default.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Scope(enum.StrEnum):
    GLOBAL = "global"
    DOMAIN = "domain"
    ACCOUNT = "account"


@dataclass(frozen=True)
class Setting:
    name: str
    type: str  # CloudStack's type names: Boolean, Integer, String
    default: str
    description: str
    category: str
    scopes: frozenset[Scope]

    def parse(self, value: str) -> str:
        """The canonical text of `value`; ValueError with the rule it breaks."""
        text = value.strip()
        if self.type == "Boolean":
            if text.lower() not in ("true", "false"):
                raise ValueError("expected true or false")
            return text.lower()
        if self.type == "Integer":
            return str(int(text))
        return text


DEFINITIONS: dict[str, Setting] = {
    setting.name: setting
    for setting in (
        Setting(
            name="api.key.access",
            type="Boolean",
            default="true",
            description="Whether users may call the API with their API keys (signed requests). Set false for a "
            "domain or an account to allow only login sessions there.",
            category="Advanced",
            scopes=frozenset({Scope.GLOBAL, Scope.DOMAIN, Scope.ACCOUNT}),
        ),
    )
}
