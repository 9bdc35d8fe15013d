"""Wiring of the extensions area into the management server.

* `services.registry["extensions"]` — the ExtensionRegistry (switchboard.extensions.registry.registry_of);
* `services.registry["extensions.runner"]` — the one ExtensionRunner of this process;
* `services.registry["extensions.path_state"]` — the PathStateChecker;
* the infrastructure extension linker (switchboard.infra.extension_link.LINKER_SERVICE);
* start-up: create the roots, install shipped built-in files, seed the built-in extensions, then publish
  this server's checksums and decide readiness, and check again every interval; shut-down: stop checking,
  and (last of all steps) close the runner.

Settings (environment): `SWITCHBOARD_EXTENSIONS_ROOT`, `SWITCHBOARD_EXTENSIONS_DATA`,
`SWITCHBOARD_EXTENSIONS_LAYOUT` (see ExtensionRoots.resolve) and `SWITCHBOARD_EXTENSION_PATH_CHECK_INTERVAL`
(seconds, default 300: CloudStack's `extension.path.state.check.interval`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from switchboard.extensions.builtins import install_builtin_files, seed_builtins
from switchboard.extensions.linker import RegistryLinker
from switchboard.extensions.path_state import PathStateChecker, ServerView
from switchboard.extensions.paths import ExtensionRoots
from switchboard.extensions.readiness import CHECK_INTERVAL_DEFAULT
from switchboard.extensions.registry import REGISTRY_SERVICE, ExtensionRegistry
from switchboard.extensions.runner import ExtensionRunner
from switchboard.infra.extension_link import LINKER_SERVICE
from switchboard.jobs import JobRuntime, JobSettings

if TYPE_CHECKING:
    from switchboard.server import ServerParts

log = logging.getLogger(__name__)

INTERVAL_VARIABLE = "SWITCHBOARD_EXTENSION_PATH_CHECK_INTERVAL"
RUNNER_SERVICE = "extensions.runner"
PATH_STATE_SERVICE = "extensions.path_state"


def check_interval(env: Mapping[str, str] | None = None) -> float:
    """`extension.path.state.check.interval` in seconds; ValueError naming the variable when invalid."""
    text = (os.environ if env is None else env).get(INTERVAL_VARIABLE, "").strip()
    if not text:
        return float(CHECK_INTERVAL_DEFAULT)
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{INTERVAL_VARIABLE}={text!r} is not a number of seconds") from None
    if value <= 0:
        raise ValueError(f"{INTERVAL_VARIABLE} must be positive")
    return value


def wire(parts: ServerParts) -> None:
    services = parts.services
    roots = ExtensionRoots.resolve(data_dir=services.settings.data_dir)
    runtime = services.registry.get("jobs.runtime")

    def own_server_id() -> int | None:
        if not isinstance(runtime, JobRuntime):
            return None
        try:
            return runtime.run.server_id
        except RuntimeError:  # not started yet
            return None

    view = ServerView(server_id=own_server_id, heartbeat_timeout=JobSettings.from_env().heartbeat_timeout)
    registry = ExtensionRegistry(roots=roots, view=view)
    checker = PathStateChecker(db=services.db, roots=roots, view=view, interval=check_interval())
    services.registry[REGISTRY_SERVICE] = registry
    runner = ExtensionRunner(roots=roots)
    services.registry[RUNNER_SERVICE] = runner
    services.registry[PATH_STATE_SERVICE] = checker
    services.registry[LINKER_SERVICE] = RegistryLinker()

    def start() -> None:
        for problem in roots.ensure():
            log.error("extensions: %s", problem)
        installed = install_builtin_files(roots)
        if installed:
            log.info("installed built-in extension files: %s", ", ".join(installed))
        seeded = seed_builtins(services.db)
        if seeded:
            log.info("seeded built-in extensions: %s", ", ".join(seeded))
        checker.start()

    parts.startup.append(start)
    parts.shutdown.append(checker.stop)
    # Shut-down steps run in reverse: inserted first, the runner closes last, after the jobs runtime has
    # given running jobs their grace period; extension processes still running then are killed.
    parts.shutdown.insert(0, runner.close)
