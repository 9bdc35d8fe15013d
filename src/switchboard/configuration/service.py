"""Reading and writing configuration values; effective values follow account → domains → global → default."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from switchboard.configuration.definitions import DEFINITIONS, Scope, Setting
from switchboard.db.base import utcnow
from switchboard.db.models.configuration import ConfigurationValue
from switchboard.db.models.identity import Domain
from switchboard.errors import InvalidParameter


def setting(name: str) -> Setting:
    found = DEFINITIONS.get(name)
    if found is None:
        raise InvalidParameter(f"Configuration {name} does not exist", parameter="name")
    return found


def scoped_values(session: Session, name: str) -> dict[tuple[str, int], str]:
    rows = session.execute(
        select(ConfigurationValue.scope, ConfigurationValue.scope_id, ConfigurationValue.value).where(
            ConfigurationValue.name == name
        )
    )
    return {(scope, scope_id): value for scope, scope_id, value in rows}


def effective_value(session: Session, name: str, *, account_id: int | None = None,
                    domain_path: str | None = None) -> str:
    """The value that applies to an account in the domain at `domain_path` (or globally when both are None)."""
    values = scoped_values(session, name)
    if not values:
        return setting(name).default
    if account_id is not None and (Scope.ACCOUNT.value, account_id) in values:
        return values[(Scope.ACCOUNT.value, account_id)]
    if domain_path is not None and any(scope == Scope.DOMAIN.value for scope, _ in values):
        # Nearest domain first: the domain itself, then its ancestors up to ROOT.
        ancestors = _ancestor_paths(domain_path)
        ids = dict(session.execute(select(Domain.path, Domain.id).where(Domain.path.in_(ancestors))).all())
        for path in ancestors:
            domain_id = ids.get(path)
            if domain_id is not None and (Scope.DOMAIN.value, domain_id) in values:
                return values[(Scope.DOMAIN.value, domain_id)]
    return values.get((Scope.GLOBAL.value, 0), setting(name).default)


def global_values(session: Session, names: list[str]) -> dict[str, str]:
    """The global values of several settings in one query (each its default when not set)."""
    found = dict(session.execute(
        select(ConfigurationValue.name, ConfigurationValue.value).where(
            ConfigurationValue.name.in_(names), ConfigurationValue.scope == Scope.GLOBAL.value)
    ).tuples().all())
    return {name: found.get(name, setting(name).default) for name in names}


def is_enabled(session: Session, name: str, *, account_id: int | None = None, domain_path: str | None = None) -> bool:
    return effective_value(session, name, account_id=account_id, domain_path=domain_path) == "true"


def set_value(session: Session, name: str, value: str, *, scope: Scope, scope_id: int = 0) -> str:
    """Store `value` for `name` at `scope`; returns the canonical value. InvalidParameter names the problem."""
    definition = setting(name)
    if scope not in definition.scopes:
        raise InvalidParameter(f"Configuration {name} cannot be set for a {scope.value}", parameter="name")
    try:
        canonical = definition.parse(value)
    except ValueError as exc:
        raise InvalidParameter(f"Invalid value for configuration {name}: {exc}", parameter="value") from None
    row = session.scalar(
        select(ConfigurationValue).where(
            ConfigurationValue.name == name, ConfigurationValue.scope == scope.value,
            ConfigurationValue.scope_id == scope_id,
        )
    )
    if row is None:
        session.add(ConfigurationValue(name=name, scope=scope.value, scope_id=scope_id, value=canonical))
    else:
        row.value = canonical
        row.updated = utcnow()
    session.flush()
    return canonical


def _ancestor_paths(path: str) -> list[str]:
    """"/a/b/" → ["/a/b/", "/a/", "/"] (domain paths end with a slash; ROOT is "/")."""
    parts = [part for part in path.split("/") if part]
    return ["/" + "".join(f"{p}/" for p in parts[:depth]) for depth in range(len(parts), -1, -1)]
