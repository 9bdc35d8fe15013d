"""Identity: domains, roles, accounts, users, passwords, API keys, login sessions and the authenticator.

The service is registered as `services.registry["identity"]`; `identity_service(services)` returns it typed.
`scope` holds the visibility rules that list commands of every area apply.
"""

from __future__ import annotations

from switchboard.identity.service import IdentityService
from switchboard.services import Services

SERVICE_NAME = "identity"

__all__ = ["SERVICE_NAME", "IdentityService", "identity_service"]


def identity_service(services: Services) -> IdentityService:
    """The process's IdentityService. Raises LookupError when identity is not wired."""
    service = services.get(SERVICE_NAME)
    if not isinstance(service, IdentityService):
        raise LookupError("the identity service is not wired in this process")
    return service
