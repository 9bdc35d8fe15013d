"""Domains: creating and listing them within the caller's subtree."""

from __future__ import annotations

from sqlalchemy.orm import Session

from switchboard.caller import Caller
from switchboard.db.models.identity import Domain
from switchboard.errors import Conflict, InvalidParameter, NotFound
from switchboard.identity import paths, repository, scope
from switchboard.identity.records import DomainRecord

__all__ = ["create_domain", "domain_for", "list_domains"]


def create_domain(session: Session, caller: Caller, *, name: str, parent_uuid: str | None,
                  network_domain: str | None = None) -> DomainRecord:
    """Create a subdomain of `parent_uuid` (default: the caller's domain). Raises InvalidParameter for a
    bad name, NotFound for a parent outside the caller's subtree, Conflict for a duplicate."""
    if "/" in name or not name.strip():
        raise InvalidParameter("Domain name must not be empty or contain '/'", parameter="name")
    parent = (repository.find_domain(session, Domain.uuid == parent_uuid) if parent_uuid
              else repository.find_domain(session, Domain.id == caller.domain_id))
    if parent is None or not scope.can_access_domain(caller, parent.path):
        raise NotFound(f"Unable to find domain by id {parent_uuid}", uuids=[parent_uuid or ""])
    path = paths.child(parent.path, name)
    if repository.find_domain(session, Domain.path == path) is not None:
        raise Conflict(f"Domain with name {name} already exists for the parent id={parent.uuid}")
    domain = Domain(name=name, path=path, parent_id=parent.id, level=parent.level + 1,
                    network_domain=network_domain)
    repository.add_unique(session, domain)
    return DomainRecord(domain, parent, False)


def list_domains(session: Session, caller: Caller, *, uuid: str | None = None, name: str | None = None,
                 level: int | None = None, keyword: str | None = None) -> list[DomainRecord]:
    """Domains the caller may see, newest first, filtered as CloudStack's listDomains does."""
    where = [scope.domain_clause(caller, Domain.path)]
    if uuid:
        where.append(Domain.uuid == uuid)
    if name:
        where.append(Domain.name == name)
    if level is not None:
        where.append(Domain.level == level)
    if keyword:
        where.append(repository.keyword_match(Domain.name, keyword))
    return repository.list_domains(session, *where)


def domain_for(session: Session, caller: Caller, domain_uuid: str | None) -> Domain:
    """The domain `domain_uuid` (the caller's own when None); NotFound outside the caller's subtree."""
    if not domain_uuid:
        domain = repository.find_domain(session, Domain.id == caller.domain_id)
    else:
        domain = repository.find_domain(session, Domain.uuid == domain_uuid)
    if domain is None or not scope.can_access_domain(caller, domain.path):
        raise NotFound(f"Unable to find domain by id {domain_uuid}", uuids=[domain_uuid or ""])
    return domain
