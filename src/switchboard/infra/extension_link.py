"""The seam between infrastructure and the extensions framework.

Clusters and templates carry an `extension_id`. Which extensions exist, and which may be tied to what, is
the extensions area's business: it implements `ExtensionLinker` (switchboard.extensions.linker), and the
composition root hands that to the API, so infrastructure never imports the extensions framework.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

__all__ = ["ExtensionLinker", "ExtensionRef"]


@dataclass(frozen=True)
class ExtensionRef:
    """An extension as infrastructure responses show it."""

    id: int
    uuid: str
    name: str


class ExtensionLinker(Protocol):
    def resolve(self, session: Session, uuid: str, *, parameter: str, purpose: str) -> ExtensionRef:
        """The extension with public id `uuid`, checked to be usable for `purpose` ("cluster" or "template").

        Raises NotFound when no such extension exists and InvalidParameter (naming `parameter`) when it
        may not be tied to that kind of resource (e.g. not an Orchestrator)."""
        ...

    def describe(self, session: Session, ids: Iterable[int]) -> dict[int, ExtensionRef]:
        """References for the given extension ids, in one query; unknown ids are left out."""
        ...
