"""What `switchboard serve` does about the demo, started and stopped with the server.

At start, in this order:

* a demo of real microVMs set up by an earlier start whose host is still registered: its local agent is
  started again (in the background; the guests that ran boot again);
* demo off (`--no-demo`), or a cloud that already has a zone: nothing is seeded (the pretend demo's
  executable is put back on a server that lacks it);
* the machine can run microVMs (`microvm.why_not`) and `SWITCHBOARD_DEMO_MICROVMS` is on: the guest image is
  built (or reused), the local agent set up and started and the Firecracker demo cloud seeded, in the
  background — the server answers meanwhile, and a line on the console says when the cloud is ready;
* otherwise, or when setting the microVMs up fails: the pretend `Demo` extension's cloud, with one line
  saying why.

At stop, the local agent is stopped (its guests shut down gracefully) once the jobs have ended.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from switchboard.agent.pki import PkiError
from switchboard.db.engine import Database
from switchboard.demo import microvm
from switchboard.demo.cloud import announce, seed_at_start
from switchboard.demo.guest import BuildError
from switchboard.demo.local_agent import LocalAgent, LocalAgentError
from switchboard.demo.settings import DemoSettings
from switchboard.errors import SwitchboardError
from switchboard.extensions.registry import ExtensionRegistry
from switchboard.infra import zones

__all__ = ["Demo"]

log = logging.getLogger(__name__)

_SETUP_ERRORS = (BuildError, LocalAgentError, PkiError, OSError, SwitchboardError, SQLAlchemyError)


def _say(line: str) -> None:
    """One line for the person who started the server (the console, not the log)."""
    print(line, file=sys.stdout, flush=True)


class Demo:
    """The demo of one server process: `start` once the built-in extensions are seeded, `stop` at the end."""

    def __init__(self, *, db: Database, registry: ExtensionRegistry, settings: DemoSettings) -> None:
        self.db = db
        self.registry = registry
        self.settings = settings
        self.agent = LocalAgent(settings.directory / "agent")
        self._stopping = threading.Event()
        self._worker: threading.Thread | None = None

    def start(self) -> None:
        settings = self.settings
        if self.agent.exists() and microvm.demo_host_registered(self.db):
            self._in_background(self._restart_agent)
            announce(settings.host, settings.port, seeded=False)
            return
        if not settings.seed or self._cloud_has_zone():
            self._pretend(None)
            return
        reason = microvm.why_not(settings.guest_dir) if settings.microvms else "SWITCHBOARD_DEMO_MICROVMS=0"
        if reason is not None:
            self._pretend(reason)
            return
        _say("Demo: preparing a cloud of real microVMs on this machine (guest image, local agent); "
             "it is ready in a minute or two.")
        announce(settings.host, settings.port, seeded=False)
        self._in_background(self._set_up_microvms)

    def stop(self) -> None:
        """Wait for a set-up under way (bounded), then stop the local agent if this server runs it."""
        self._stopping.set()
        if self._worker is not None:
            self._worker.join(timeout=120)
        self.agent.stop()

    # -- the two demos ----------------------------------------------------------------------------------

    def _pretend(self, reason: str | None) -> None:
        """The pretend demo (seeded only into an empty cloud with the demo on); `reason`: why not microVMs."""
        settings = self.settings
        if reason is not None:
            _say(f"Demo: real microVMs are not available ({reason}); the demo cloud's instances are pretend "
                 "(the Demo extension).")
        seeded = settings.seed and seed_at_start(self.db, self.registry, guest_vlans=settings.guest_vlans)
        announce(settings.host, settings.port, seeded=seeded)

    def _set_up_microvms(self) -> None:
        settings, agent = self.settings, self.agent
        try:
            if not agent.claim():
                raise microvm_busy()
            artifacts = microvm.prepare(agent, settings.guest_dir)
            if self._stopping.is_set():
                return
            agent.start()
            seeded = microvm.seed(self.db, self.registry, agent, artifacts, guest_vlans=settings.guest_vlans)
        except _SETUP_ERRORS as exc:
            log.error("the demo's microVMs could not be set up: %s", exc)
            agent.stop()
            if not self._stopping.is_set():
                self._pretend(f"setting them up failed: {exc}")
            return
        if seeded is None:  # somebody made a zone meanwhile: the cloud is theirs
            agent.stop()
            _say("Demo: not seeded, the cloud has a zone now.")
            return
        log.info("seeded the demo cloud of microVMs (zone %s)", seeded.zone)
        announce(settings.host, settings.port, seeded=True,
                 what="real microVMs: deploy the template Demo microVM and watch it boot in its Console tab")

    def _restart_agent(self) -> None:
        try:
            if not self.agent.claim():
                _say("Demo: the local microVM agent runs with another server on this data directory.")
                return
            self.agent.start()
            _say(f"Demo: the local microVM agent runs again at {self.agent.url}; instances that ran boot again.")
        except _SETUP_ERRORS as exc:
            log.error("the demo's local agent did not start: %s", exc)
            _say(f"Demo: the local microVM agent did not start ({exc}); see {self.agent.log_path}.")

    # -- helpers ----------------------------------------------------------------------------------------

    def _in_background(self, work: Callable[[], None]) -> None:
        self._worker = threading.Thread(target=work, name="demo", daemon=True)
        self._worker.start()

    def _cloud_has_zone(self) -> bool:
        with self.db.session() as session:
            return bool(zones.all_zones(session))


def microvm_busy() -> LocalAgentError:
    return LocalAgentError("another server on this data directory is setting the demo's agent up")
