"""The composition root of the agent process: build every part from the config, then serve HTTPS.

Nothing else in the agent picks implementations; tests call `build_agent` with their own backends.
"""

from __future__ import annotations

import ipaddress
import logging
import signal
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn

from switchboard.agent.api import AgentContext, create_app
from switchboard.agent.auth import Authenticator, PasswordCheck, pam_check
from switchboard.agent.backends import BackendSet
from switchboard.agent.config import AgentConfig, ConfigError, TlsConfig, load_config
from switchboard.agent.console import ConsoleManager
from switchboard.agent.errors import BackendError
from switchboard.agent.locks import VmLocks
from switchboard.agent.metrics import AgentMetrics
from switchboard.agent.model import PowerState
from switchboard.agent.network.base import NetworkBackend
from switchboard.agent.reconcile import Reconciler
from switchboard.agent.runtime import AgentPaths, Runtime, current_boot_id
from switchboard.agent.service import VmService
from switchboard.agent.snapshots import SnapshotService
from switchboard.agent.state import StateStore
from switchboard.agent.storage.base import StorageBackend
from switchboard.agent.tls import (
    Asgi,
    ClientAllowList,
    PeerCertH11Protocol,
    TlsSetupError,
    reload_certificates,
    server_context,
)
from switchboard.agent.vmm.base import VmmDriver
from switchboard.agent.vmm.tmux import TmuxSupervisor

__all__ = ["StartupError", "UnsafeConfig", "build_agent", "check_exposure", "reload_tls", "serve", "uvicorn_config"]

_log = logging.getLogger(__name__)


class StartupError(Exception):
    """A backend named in the config cannot be built."""


def _backends(config: AgentConfig) -> tuple[VmmDriver, BackendSet]:
    # Imported here: the registries pull in their implementations, which only the real process needs.
    from switchboard.agent.network import create_network
    from switchboard.agent.storage import create_storage
    from switchboard.agent.template_sources import TemplateSources
    from switchboard.agent.templates import TemplateStore
    from switchboard.agent.vmm import create_vmm

    host = config.defaults.host
    try:
        vmm = create_vmm(host.vmm, host.vmm_options(), state_dir=host.state_dir / "vmm")
        templates = TemplateStore(
            host.kernel_dir,
            host.image_dir,
            host.state_dir / "templates",
            download_timeout=config.templates.download_timeout_seconds,
            max_download_bytes=config.templates.max_download_size,
            sources=TemplateSources(config.templates.allowed_sources),
        )
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
    except (BackendError, OSError) as exc:
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
        limits=config.limits,
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
    agent: AgentContext,
    *,
    port: int | None = None,
    context: ssl.SSLContext | None = None,
    app: Asgi | None = None,
) -> uvicorn.Config:
    """The uvicorn settings for `agent`: host/port from the config and, with TLS on, our own SSL context
    (minimum version, client verification; `context` when the caller built it) and the protocol that
    exposes the client certificate. `app` is the application when the caller built it."""
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
    return uvicorn.Config(app or create_app(agent), **options)


class UnsafeConfig(Exception):
    """The config would expose the agent without TLS or without authentication (and --insecure is not given)."""


def _loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(config: AgentConfig, *, insecure: bool = False) -> AgentConfig:
    """Refuse a config that serves without TLS or without authenticating callers (PAM, or client
    certificates with `client_auth: required`), unless `insecure`; with `insecure` the agent listens on
    loopback only. Returns the config to serve. Raises UnsafeConfig."""
    tls = config.security.tls
    problems = []
    if not tls.enabled:
        problems.append("TLS is off (security.tls.enabled)")
    if not (config.auth.enabled or (tls.enabled and tls.client_auth == "required")):
        problems.append("callers are not authenticated (auth.enabled, or security.tls.client_auth: required)")
    if not insecure:
        if problems:
            raise UnsafeConfig(
                f"refusing to start: {'; '.join(problems)}. Fix the config (`init-tls --config` sets TLS up), "
                "or pass --insecure to serve on loopback only"
            )
        return config
    for problem in problems:
        _log.warning("--insecure: %s", problem)
    if _loopback(config.bind_host):
        return config
    loopback = "::1" if ":" in config.bind_host else "127.0.0.1"
    _log.warning("--insecure: listening on %s instead of %s", loopback, config.bind_host)
    return config.model_copy(update={"bind_host": loopback})


def _warn_about_tls_files(tls: TlsConfig) -> None:
    if tls.cert_file is not None and (tls.cert_file.parent / "ca.key").exists():
        _log.warning(
            "%s holds a CA key beside the server certificate: move it out of the agent's directory "
            "(`init-tls --ca-dir` does)", tls.cert_file.parent
        )
    if tls.enabled and not tls.allowed_clients and tls.client_auth != "none":
        _log.warning("security.tls.allowed_clients is empty: every certificate signed by %s is accepted", tls.ca_file)


def reload_tls(config_path: Path, context: ssl.SSLContext, allow_list: ClientAllowList) -> bool:
    """Apply the config file's current TLS files and client allow-list to the running server (SIGHUP).
    Anything unreadable is logged and the previous settings stay; returns whether all of it applied."""
    try:
        tls = load_config(config_path).security.tls
        if tls.allowed_clients and tls.client_auth == "none":
            raise TlsSetupError("security.tls.allowed_clients needs client_auth optional or required")
        reload_certificates(context, tls)
        allow_list.replace(tls.allowed_clients)
    except (ConfigError, TlsSetupError) as exc:
        _log.error("reload failed, still using the previous TLS settings: %s", exc)
        return False
    _log.info("TLS certificates and client allow-list reloaded (%d entries)", len(tls.allowed_clients))
    return True


def serve(config: AgentConfig, *, config_path: Path | None = None, insecure: bool = False) -> int:
    """Run the agent until SIGTERM/SIGINT. Returns the process exit status. SIGHUP re-reads the TLS files
    and `allowed_clients` from `config_path`. Raises UnsafeConfig (see `check_exposure`)."""
    logging.basicConfig(
        level=config.logging.level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    config = check_exposure(config, insecure=insecure)
    _warn_about_tls_files(config.security.tls)
    agent = build_agent(config)
    context = server_context(config.security.tls) if config.security.tls.enabled else None
    app = create_app(agent)
    if context is not None and config_path is not None:

        def on_sighup(signum: int, frame: object) -> None:
            reload_tls(config_path, context, app)

        signal.signal(signal.SIGHUP, on_sighup)
    server = uvicorn.Server(uvicorn_config(agent, context=context, app=app))
    server.run()
    return 0 if server.started else 1
