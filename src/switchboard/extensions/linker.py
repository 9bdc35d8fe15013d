"""The extensions area's side of infrastructure's extension seam (switchboard.infra.extension_link): which
extension a cluster or template may be tied to, and the names infrastructure responses show."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from switchboard.db.models.extensions import Extension, ExtensionType
from switchboard.errors import InvalidParameter
from switchboard.extensions import store
from switchboard.infra.extension_link import ExtensionRef

__all__ = ["RegistryLinker"]


class RegistryLinker:
    """An `ExtensionLinker` over the extension table."""

    def resolve(self, session: Session, uuid: str, *, parameter: str, purpose: str) -> ExtensionRef:
        """The live extension `uuid`, which must be an Orchestrator to be tied to a cluster or template.

        Raises NotFound for an unknown (or deleted) extension, InvalidParameter naming `parameter` for
        another type."""
        extension = store.get_extension(session, uuid, parameter=parameter)
        if extension.type != ExtensionType.ORCHESTRATOR.value:
            raise InvalidParameter(
                f"Extension {extension.name} of type {extension.type} cannot be used for a {purpose}; "
                f"only {ExtensionType.ORCHESTRATOR.value} extensions can", parameter=parameter,
            )
        return ExtensionRef(id=extension.id, uuid=extension.uuid, name=extension.name)

    def describe(self, session: Session, ids: Iterable[int]) -> dict[int, ExtensionRef]:
        """References for the given ids in one query (removed extensions too: old rows may point at them)."""
        wanted = list(set(ids))
        if not wanted:
            return {}
        rows = session.execute(select(Extension.id, Extension.uuid, Extension.name).where(Extension.id.in_(wanted)))
        return {row.id: ExtensionRef(id=row.id, uuid=row.uuid, name=row.name) for row in rows}
