"""The resources custom actions run on (only instances, §4.3): who may see one, and which extension serves it.

An instance is served by the extension of the cluster of its host, or of its last host when it is not
running. Visibility follows the identity rules: an Admin sees every instance, a DomainAdmin or ResourceAdmin
those of its domain's subtree, a User only its own account's and its projects'.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from switchboard.db.models.compute import Instance
from switchboard.db.models.identity import Domain
from switchboard.db.models.infrastructure import Cluster, Host, Template
from switchboard.identity import paths
from switchboard.identity.projects import is_project_member
from switchboard.roles import RoleType

__all__ = ["VIRTUAL_MACHINE", "InstanceRef", "Viewer", "find_instance"]

VIRTUAL_MACHINE = "VirtualMachine"


@dataclass(frozen=True, kw_only=True)
class Viewer:
    """Who asks: role type, account and domain (shown path, e.g. "ROOT/sales")."""

    role: RoleType
    account_id: int | None
    domain_path: str | None

    @property
    def is_admin(self) -> bool:
        return self.role is RoleType.ADMIN

    def may_see(self, *, account_id: int, domain_path_stored: str) -> bool:
        if self.is_admin:
            return True
        if self.role in (RoleType.DOMAIN_ADMIN, RoleType.RESOURCE_ADMIN) and self.domain_path is not None:
            return paths.in_subtree(domain_path_stored, paths.stored(self.domain_path))
        return self.account_id is not None and account_id == self.account_id


@dataclass(frozen=True)
class InstanceRef:
    """An instance a viewer may see, with where it runs: `host_id` (its host, else its last host; None when
    it never ran) and its extension: that host's cluster's, or its template's while it has no host."""

    instance: Instance
    host_id: int | None
    extension_id: int | None


def find_instance(session: Session, uuid: str, viewer: Viewer) -> InstanceRef | None:
    """The live instance `uuid` if `viewer` may see it; None otherwise (one query). Callers answer "not
    found" for both, so that nobody learns whether another account's instance exists."""
    row = session.execute(
        select(Instance, Domain.path).join(Domain, Domain.id == Instance.domain_id)
        .where(Instance.uuid == uuid, Instance.removed.is_(None))
    ).first()
    if row is None:
        return None
    instance, domain_path = row
    if not (viewer.may_see(account_id=instance.account_id, domain_path_stored=domain_path)
            or is_project_member(session, project_account_id=instance.account_id,
                                 member_account_id=viewer.account_id)):
        return None
    host_id = instance.host_id if instance.host_id is not None else instance.last_host_id
    if host_id is not None:
        extension_id = session.execute(
            select(Cluster.extension_id).join(Host, Host.cluster_id == Cluster.id).where(Host.id == host_id)
        ).scalar_one_or_none()
    else:
        extension_id = session.execute(
            select(Template.extension_id).where(Template.id == instance.template_id)
        ).scalar_one_or_none()
    return InstanceRef(instance=instance, host_id=host_id, extension_id=extension_id)
