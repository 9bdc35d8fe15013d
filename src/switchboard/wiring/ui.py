"""Wiring of the ui area: the web UI's routes at `/` and the demo cloud seeded at start.

The demo (switchboard.ui.demo) is seeded into an empty cloud unless Settings.demo is off (`--no-demo`,
SWITCHBOARD_DEMO=0). It runs as a start-up step after the extensions area's, so the extensions root exists
and this server is registered (pathready is decided against it).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from switchboard.errors import SwitchboardError
from switchboard.ui.demo import announce, restore_entry_point, seed_demo
from switchboard.ui.routes import ui_routes

if TYPE_CHECKING:
    from switchboard.server import ServerParts

log = logging.getLogger(__name__)


def wire(parts: ServerParts) -> None:
    services = parts.services
    settings = services.settings
    parts.routes.extend(ui_routes())

    def start() -> None:
        seeded = None
        if settings.demo:
            # The demo is a convenience: a failure to seed it is reported, and the server runs on without it.
            try:
                seeded = seed_demo(services)
                if seeded is None and restore_entry_point(services):
                    log.info("installed the demo extension's executable on this server")
            except (SwitchboardError, SQLAlchemyError, OSError) as exc:
                log.error("the demo cloud could not be seeded: %s", exc)
            if seeded is not None:
                log.info("seeded the demo cloud (zone %s)", seeded.zone)
        announce(settings.host, settings.port, seeded=seeded is not None)

    parts.startup.append(start)
