"""VNC passwords: one random password per instance (as CloudStack makes them), stored sealed with the
server key and bound to the instance, so a copied row opens for no other instance and no other server."""

from __future__ import annotations

import logging
import secrets

from switchboard.db.models.compute import Instance
from switchboard.identity.serverkey import ServerKey, UnsealError

__all__ = ["VncSecrets", "new_vnc_password"]

log = logging.getLogger(__name__)


def new_vnc_password() -> str:
    """A random VNC password (CloudStack generates one per instance)."""
    return secrets.token_urlsafe(12)


class VncSecrets:
    """Seals and opens instances' VNC passwords with the server key."""

    def __init__(self, server_key: ServerKey) -> None:
        self._key = server_key

    def seal(self, instance_uuid: str, password: str) -> bytes:
        return self._key.seal(password, bound_to=f"vnc:{instance_uuid}")

    def unseal(self, instance: Instance) -> str | None:
        """The password in the clear; None when there is none or it does not open with this key (logged)."""
        if instance.vnc_password_sealed is None:
            return None
        try:
            return self._key.unseal(instance.vnc_password_sealed, bound_to=f"vnc:{instance.uuid}")
        except UnsealError:
            log.warning("instance %s: the VNC password does not open with this server's key", instance.uuid)
            return None
