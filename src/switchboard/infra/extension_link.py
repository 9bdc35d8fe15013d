"""The seam between infrastructure and the extensions framework.

Clusters and templates carry an `extension_id`. Which extensions exist, and which may be tied to what, is
the extensions area's business: it wires an `ExtensionLinker` into the services registry under
`LINKER_SERVICE`. Until it does, asking to tie anything to an extension fails with a clear error and
responses show no extension fields.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session

from switchboard.errors import InvalidParameter

__all__ = ["LINKER_SERVICE", "NO_EXTENSIONS", "ExtensionLinker", "ExtensionRef", "linker_from"]

LINKER_SERVICE = "extension_linker"


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


class _NoExtensions:
    """Stands in until the extensions area is wired: nothing can be linked, nothing is described."""

    def resolve(self, session: Session, uuid: str, *, parameter: str, purpose: str) -> ExtensionRef:
        raise InvalidParameter(
            f"Unable to tie a {purpose} to extension {uuid}: extensions are not available", parameter=parameter
        )

    def describe(self, session: Session, ids: Iterable[int]) -> dict[int, ExtensionRef]:
        return {}


NO_EXTENSIONS: ExtensionLinker = _NoExtensions()


def linker_from(registry: dict[str, Any]) -> ExtensionLinker:
    """The wired linker, or the stand-in that refuses links."""
    linker = registry.get(LINKER_SERVICE)
    return linker if linker is not None else NO_EXTENSIONS
