"""The composition root of the agent process: build every part from the config, then serve HTTPS.

Nothing else in the agent picks implementations; tests call `build_agent` with their own backends.
"""

from __future__ import annotations

import logging
import signal
import ssl
from collections.abc import Callable
from typing import Any

import uvicorn

from switchboard.agent.api import AgentContext, create_app
from switchboard.agent.auth import Authenticator, PasswordCheck, pam_check
from switchboard.agent.backends import BackendSet
from switchboard.agent.config import AgentConfig
from switchboard.agent.console import ConsoleManager
from switchboard.agent.locks import VmLocks
from switchboard.agent.metrics import AgentMetrics
from switchboard.agent.model import PowerState
from switchboard.agent.network.base import NetworkBackend, NetworkError
from switchboard.agent.reconcile import Reconciler
from switchboard.agent.runtime import AgentPaths, Runtime, current_boot_id
from switchboard.agent.service import VmService
from switchboard.agent.snapshots import SnapshotService
from switchboard.agent.state import StateStore
from switchboard.agent.storage.base import StorageBackend, StorageError
from switchboard.agent.tls import PeerCertH11Protocol, TlsSetupError, reload_certificates, server_context
from switchboard.agent.vmm.base import VmmDriver, VmmError
from switchboard.agent.vmm.tmux import TmuxSupervisor

__all__ = ["StartupError", "build_agent", "serve", "uvicorn_config"]

_log = logging.getLogger(__name__)


class StartupError(Exception):
    """A backend named in the config cannot be built."""


def _backends(config: AgentConfig) -> tuple[VmmDriver, BackendSet]:
    # Imported here: the registries pull in their implementations, which only the real process needs.
    from switchboard.agent.network import create_network
    from switchboard.agent.storage import create_storage
    from switchboard.agent.templates import TemplateStore
    from switchboard.agent.vmm import create_vmm

    host = config.defaults.host
    try:
        vmm = create_vmm(host.vmm, host.vmm_options(), state_dir=host.state_dir / "vmm")
        templates = TemplateStore(host.kernel_dir, host.image_dir, host.state_dir / "templates")
        storage_options = config.defaults.storage.options()
        net_options = config.defaults.net.options()

        def storage_factory(name: str) -> StorageBackend:
            return create_storage(name, storage_options, templates=templates)

        def network_factory(name: str) -> NetworkBackend:
            return create_network(name, net_options)

        backends = BackendSet(
            storage=storage_factory(config.defaults.storage.driver),
            network=network_factory(config.defaults.net.driver),
            storage_default=config.defaults.storage.driver,
            network_default=config.defaults.net.driver,
            storage_factory=storage_factory,
            network_factory=network_factory,
        )
    except (VmmError, StorageError, NetworkError, OSError) as exc:
        raise StartupError(str(exc)) from exc
    return vmm, backends


def build_agent(
    config: AgentConfig,
    *,
    backends: tuple[VmmDriver, StorageBackend, NetworkBackend] | tuple[VmmDriver, BackendSet] | None = None,
    boot_id: str | None = None,
    password_check: PasswordCheck = pam_check,
    group_lookup: Callable[[str], set[str]] | None = None,
) -> AgentContext:
    """Wire store, locks, runtime, services, reconciler, metrics and authenticator for `config`.

    `backends` replaces the ones the config names (tests); `boot_id` replaces the kernel's (tests of the
    host-reboot path). Raises StartupError, StateError."""
    host = config.defaults.host
    if backends is not None and len(backends) == 2:
        vmm, backend_set = backends
    elif backends is not None:
        vmm, storage, network = backends
        backend_set = BackendSet(storage=storage, network=network)
    else:
        vmm, backend_set = _backends(config)
    metrics = AgentMetrics()
    run_dir = host.run_dir
    tmux = getattr(vmm, "tmux", None)  # drivers that supervise VMMs on the private tmux server
    consoles = None
    if isinstance(tmux, TmuxSupervisor):
        consoles = ConsoleManager(
            config.defaults.console, tmux_socket=tmux.socket, run_dir_of=lambda name: run_dir / name, tmux=tmux.tmux
        )
    runtime = Runtime(
        store=StateStore(host.state_dir, observe_write=lambda seconds: metrics.observe_step("state", seconds)),
        locks=VmLocks(),
        vmm=vmm,
        backends=backend_set,
        paths=AgentPaths(
            state_dir=host.state_dir,
            run_dir=host.run_dir,
            log_dir=host.log_dir,
            kernel_dir=host.kernel_dir,
            image_dir=host.image_dir,
        ),
        boot_id=boot_id or current_boot_id(host.boot_id_file),
        stop_grace_seconds=host.stop_grace_seconds,
        restart_on_crash=host.restart_on_crash,
        observe_step=metrics.observe_step,
        consoles=consoles,
    )
    service = VmService(runtime, observe=metrics.observe_operation)
    reconciler = Reconciler(service, interval_seconds=host.reconcile_interval_seconds)
    auth_kwargs: dict[str, Any] = {"check": password_check}
    if group_lookup is not None:
        auth_kwargs["groups"] = group_lookup

    def extra_gauges() -> dict[str, float]:
        report = reconciler.last_report
        return {
            "reconcile_passes": float(reconciler.passes),
            "unknown_vm_resources": float(len(report.unknown)),
            "vms_failing_reconcile": float(len(report.failed)),
        }

    def states() -> dict[str, PowerState]:
        return service.power_states()

    metrics.watch_vms(states, extra_gauges)
    return AgentContext(
        config=config,
        service=service,
        snapshots=SnapshotService(service),
        reconciler=reconciler,
        metrics=metrics,
        authenticator=Authenticator(config.auth, **auth_kwargs),
    )


def uvicorn_config(
    agent: AgentContext, *, port: int | None = None, context: ssl.SSLContext | None = None
) -> uvicorn.Config:
    """The uvicorn settings for `agent`: host/port from the config and, with TLS on, our own SSL context
    (minimum version, client verification; `context` when the caller built it) and the protocol that
    exposes the client certificate."""
    config = agent.config
    options: dict[str, Any] = {
        "host": config.bind_host,
        "port": config.bind_port if port is None else port,
        "log_config": None,  # keep the agent's logging setup
        "access_log": True,
        "lifespan": "on",
        "timeout_graceful_shutdown": 30,
    }
    tls = config.security.tls
    if tls.enabled:
        tls_context = context or server_context(tls)

        def factory(_config: uvicorn.Config, _default: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
            return tls_context

        options.update(ssl_context_factory=factory, ssl_certfile=str(tls.cert_file), http=PeerCertH11Protocol)
    return uvicorn.Config(create_app(agent), **options)


def _reload_on_sighup(context: ssl.SSLContext, config: AgentConfig) -> None:
    """SIGHUP loads rotated certificates without a restart (e.g. after `init-tls --force` or renewal)."""

    def reload(signum: int, frame: object) -> None:
        try:
            reload_certificates(context, config.security.tls)
            _log.info("TLS certificates reloaded")
        except TlsSetupError as exc:
            _log.error("%s; still using the previous certificates", exc)

    signal.signal(signal.SIGHUP, reload)


def serve(config: AgentConfig) -> int:
    """Run the agent until SIGTERM/SIGINT. Returns the process exit status."""
    logging.basicConfig(
        level=config.logging.level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if not config.security.tls.enabled:
        _log.warning("TLS is off: credentials and payloads travel in clear text")
    if not config.auth.enabled:
        _log.warning("authentication is off: every caller has full control")
    agent = build_agent(config)
    context = server_context(config.security.tls) if config.security.tls.enabled else None
    if context is not None:
        _reload_on_sighup(context, config)
    server = uvicorn.Server(uvicorn_config(agent, context=context))
    server.run()
    return 0 if server.started else 1


