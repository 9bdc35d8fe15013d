"""The management server's composition root: settings → database → services → ASGI app → uvicorn.

`assemble` builds every part explicitly, each from the parts it needs, so the order of construction is the
order of dependency; `create_server_app` starts the parts that run threads in that same order and stops them
in reverse through one AsyncExitStack, also when a later start fails. This is the only module that knows
every area; see docs/architecture.md for the layers below it.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

import switchboard.api.commands  # noqa: F401  (registers every API command)
from switchboard.api.app import ClientApi, create_app
from switchboard.api.async_jobs import error_to_result, job_submitter
from switchboard.api.authenticator import IdentityAuthenticator
from switchboard.api.console_socket import console_routes
from switchboard.api.dispatcher import Dispatcher
from switchboard.api.done_jobs import register_done_jobs
from switchboard.api.limits import MAX_HEAD_BYTES
from switchboard.api.registry import REGISTRY
from switchboard.api.services import Services
from switchboard.api.views.hosts import host_response
from switchboard.api.views.identity import user_record_view
from switchboard.api.views.instances import instance_job_result
from switchboard.api.views.networks import network_response
from switchboard.compute.actions import Actions
from switchboard.compute.console import ConsoleAccess
from switchboard.compute.instance_rows import host_in_use
from switchboard.compute.jobs import register_instance_jobs
from switchboard.compute.lifecycle import Lifecycle
from switchboard.compute.power_sync import PowerSync
from switchboard.compute.run_watch import RunWatcher
from switchboard.compute.runs import RunJournal
from switchboard.configuration import LiveSettings
from switchboard.db.engine import Database
from switchboard.db.migrate import upgrade
from switchboard.demo.runner import Demo
from switchboard.extensions.builtins import install_builtin_files, seed_builtins
from switchboard.extensions.custom_actions.jobs import register_custom_action_jobs
from switchboard.extensions.custom_actions.run import ActionRunner
from switchboard.extensions.linker import RegistryLinker
from switchboard.extensions.path_state import PathStateChecker, ServerView
from switchboard.extensions.paths import ExtensionRoots
from switchboard.extensions.registry import ExtensionRegistry
from switchboard.extensions.runner import ExtensionRunner
from switchboard.identity.bootstrap import Bootstrapped, bootstrap
from switchboard.identity.cache import KeyCache
from switchboard.identity.credentials import CredentialChanges
from switchboard.identity.handover import hand_over
from switchboard.identity.jobs import register_identity_jobs
from switchboard.identity.keys import ApiKeys
from switchboard.identity.login import Login
from switchboard.identity.serverkey import ServerKey
from switchboard.identity.sessions import SessionStore
from switchboard.identity.throttle import LoginThrottle
from switchboard.identity.users import Users
from switchboard.infra.jobs import register_infra_jobs
from switchboard.infra.usage import UsageChecks
from switchboard.jobs import Executor, JobHandlers, JobRuntime, JobService, ServerRun, Waker
from switchboard.settings import Settings
from switchboard.ui.routes import ui_routes

log = logging.getLogger(__name__)

_SERVER_NAMESPACE = uuid.UUID("6f1f6c1e-3a57-4d0e-9a39-7d1b8c2f5e40")


@dataclass(frozen=True, kw_only=True)
class ManagementServer:
    """Every long-lived part of one server process, built by `assemble`."""

    settings: Settings
    db: Database
    services: Services  # what API handlers reach through `call.services`
    authenticator: IdentityAuthenticator
    jobs: JobService
    job_runtime: JobRuntime
    roots: ExtensionRoots
    runner: ExtensionRunner
    path_state: PathStateChecker
    power_sync: PowerSync
    run_watch: RunWatcher


def assemble(settings: Settings, *, migrate: bool = True) -> ManagementServer:
    """Open the database (migrated unless `migrate` is false), make sure identity is bootstrapped, and build
    every part. Nothing runs yet: `create_server_app`'s lifespan starts what runs threads."""
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    settings.server_key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Each job worker and the event loop (quick commands) keep a connection of their own.
    db = Database.from_url(settings.database_url, kept_connections=settings.job_workers + 1)
    if migrate:
        upgrade(db.engine)

    # Identity: the server key, first-start bootstrap, login sessions and the API-key cache.
    server_key = ServerKey.load_or_create(settings.server_key_file)
    cache = KeyCache(ttl=settings.key_cache_ttl)
    sessions = SessionStore(server_key)
    credentials = CredentialChanges(cache)
    users = Users(sessions=sessions, credentials=credentials)
    with db.session() as session:
        created = bootstrap(session, server_key, admin_password=settings.admin_password_clear)
        sessions.purge_expired(session)
    if created is not None:
        _announce_first_start(created, settings.data_dir)
    authenticator = IdentityAuthenticator(server_key=server_key, sessions=sessions, cache=cache,
                                          enforce_timestamps=settings.enforce_signature_timestamps)

    # Jobs: the queue, and this server's workers (started by the lifespan).
    job_settings = settings.job_settings()
    handlers = JobHandlers()
    waker = Waker()
    jobs = JobService(handlers=handlers, waker=waker, heartbeat_timeout=job_settings.heartbeat_timeout)
    # Settings under CloudStack's names; `wait` and `job.expire.minutes` may change while the server runs.
    live = LiveSettings(db, settings.configuration_values())
    runtime = JobRuntime(db=db, handlers=handlers, waker=waker, settings=job_settings,
                         executor=Executor(db=db, handlers=handlers, error_to_result=error_to_result),
                         server_uuid=server_uuid(settings.server_name), server_name=settings.server_name,
                         expire_after=lambda: live.integer("job.expire.minutes") * 60.0)

    # Extensions: roots, registry, readiness across servers, the one runner of this process.
    roots = ExtensionRoots.resolve(data_dir=settings.data_dir, layout=settings.extensions_layout,
                                   extensions=settings.extensions_root, payloads=settings.extensions_data)
    view = ServerView(server_id=lambda: _server_id(runtime), heartbeat_timeout=job_settings.heartbeat_timeout)
    registry = ExtensionRegistry(roots=roots, view=view)
    path_state = PathStateChecker(db=db, roots=roots, view=view, interval=settings.extension_path_check_interval)
    runner = ExtensionRunner(roots=roots, extra_env=settings.extension_environment())
    linker = RegistryLinker()

    # Compute, and the deletion guards it adds to infrastructure.
    compute = settings.compute_settings()
    # CloudStack's `wait` is dynamic: every run reads the value in force when it starts.
    actions = Actions(runner=runner, roots=roots, wait=lambda: live.integer("wait"))
    journal = RunJournal(db=db, roots=roots, wait=actions.timeout, server_name=settings.server_name,
                         owner=lambda: _server_run(runtime))
    lifecycle = Lifecycle(db=db, actions=actions, server_key=server_key, journal=journal)
    run_watch = RunWatcher(db=db, actions=actions, unseal=lifecycle.unseal_vnc, owner=lambda: _server_run(runtime),
                           interval=job_settings.heartbeat_interval, heartbeat_timeout=job_settings.heartbeat_timeout,
                           output_limit=runner.output_limit)
    consoles = ConsoleAccess(db=db, actions=actions, server_key=server_key, vnc=lifecycle.vnc)
    power_sync = PowerSync(db=db, runner=runner, roots=roots, settings=compute, lifecycle=lifecycle,
                           owner=lambda: _server_run(runtime), heartbeat_timeout=job_settings.heartbeat_timeout)
    usage = UsageChecks()
    usage.register("host", host_in_use)
    custom_actions = ActionRunner(db=db, runner=runner, roots=roots, unseal=lifecycle.unseal_vnc)

    # Every area's job handlers; a job's result is rendered with the API's views.
    register_identity_jobs(handlers, users, user_view=user_record_view)
    register_infra_jobs(handlers, checks=usage,
                        network_view=lambda session, network, full: network_response(session, network, full=full),
                        host_view=lambda session, host_uuid: host_response(session, linker, host_uuid))
    register_instance_jobs(handlers, lifecycle, result=instance_job_result(db))
    register_custom_action_jobs(handlers, custom_actions, server_key)
    register_done_jobs(handlers)
    load_extra_modules(settings.extra_modules, jobs)

    keys = ApiKeys(server_key=server_key, credentials=credentials)
    login = Login(sessions, LoginThrottle(settings.login_limits()))
    services = Services(login=login, users=users, keys=keys, credentials=credentials,
                        server_key=server_key, jobs=jobs, usage=usage,
                        guest_vlans=settings.guest_vlans, extensions=registry, linker=linker, lifecycle=lifecycle,
                        settings=live, custom_actions=custom_actions, consoles=consoles)
    return ManagementServer(settings=settings, db=db, services=services, authenticator=authenticator, jobs=jobs,
                            job_runtime=runtime, roots=roots, runner=runner, path_state=path_state,
                            power_sync=power_sync, run_watch=run_watch)


def create_server_app(server: ManagementServer) -> ClientApi:
    """The ASGI app: the API at /client/api, the web UI at /, and a lifespan that runs the server's parts."""
    dispatcher = Dispatcher(registry=REGISTRY, db=server.db, services=server.services,
                            authenticator=server.authenticator, submit_job=job_submitter(server.jobs))

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            _start(server, stack)
            yield

    return create_app(dispatcher, [*console_routes(server.services.consoles), *ui_routes()], lifespan=lifespan)


def _start(server: ManagementServer, stack: contextlib.AsyncExitStack) -> None:
    """Start the parts in dependency order; `stack` stops them in reverse (what started last stops first)."""
    settings = server.settings
    stack.callback(server.db.dispose)
    # Closed last, after the job runtime gave running jobs their grace: extension processes still running
    # then are killed.
    stack.callback(server.runner.close)
    # The demo's local agent stops after the jobs have ended (and before the runner closes).
    demo = Demo(db=server.db, registry=server.services.extensions, settings=settings.demo_settings())
    stack.callback(demo.stop)
    server.job_runtime.start()
    stack.callback(server.job_runtime.stop)
    # Readiness is decided against this server's registration, so after the job runtime started.
    for problem in server.roots.ensure():
        log.error("extensions: %s", problem)
    installed = install_builtin_files(server.roots)
    if installed:
        log.info("installed built-in extension files: %s", ", ".join(installed))
    seeded = seed_builtins(server.db)
    if seeded:
        log.info("seeded built-in extensions: %s", ", ".join(seeded))
    server.path_state.start()
    stack.callback(server.path_state.stop)
    # Runs a dead server (this one's previous run included) left behind are settled by their outcome.
    server.run_watch.start()
    stack.callback(server.run_watch.stop)
    server.power_sync.start()  # one server at a time holds its lease
    stack.callback(server.power_sync.stop)
    demo.start()


# How long an idle keep-alive connection stays open. Clients poll async jobs every few seconds (CloudMonkey,
# Libcloud, Ansible, Terraform) and reuse their connection between polls: closing it sooner (uvicorn's default
# is 5 s) makes a poll every 5 s race the close and fail with "connection reset". 75 s is also longer than
# reverse proxies and load balancers keep idle upstream connections by default (60 s), so they close first.
KEEP_ALIVE_SECONDS = 75


def serve(settings: Settings) -> None:
    """Run the management server until interrupted."""
    app = create_server_app(assemble(settings))
    log.info("Switchboard management server listening on http://%s:%d", settings.host, settings.port)
    # A request line or header block up to MAX_HEAD_BYTES reaches the API, which answers an over-long query
    # with its own 414 envelope (h11's default, 16 KiB, would cut the connection). The only WebSockets are the
    # console proxy's: VNC viewers negotiate compressed encodings themselves, and deflating their frames again
    # would cost the event loop CPU for nothing.
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", access_log=False,
                h11_max_incomplete_event_size=MAX_HEAD_BYTES, timeout_keep_alive=KEEP_ALIVE_SECONDS,
                ws_per_message_deflate=False)


def server_uuid(name: str) -> str:
    """This server's stable identity, derived from its name.

    A restart keeps it, so the new run recognises - and at once fails - the jobs its previous run left in
    progress. It deliberately does not live in the data directory: servers may share that directory (and
    its key file), while no two live servers can have the same name, since one host cannot bind one port
    twice. Servers on different hosts with the same host name must set SWITCHBOARD_SERVER_NAME."""
    return str(uuid.uuid5(_SERVER_NAMESPACE, name))


def load_extra_modules(names: tuple[str, ...], jobs: JobService) -> None:
    """Import the modules SWITCHBOARD_EXTRA_MODULES names (plug-ins, tests). A module may define
    `register_job_handlers(jobs: JobService)`, which is called; importing it may also register API commands."""
    for name in names:
        module = importlib.import_module(name)
        register = getattr(module, "register_job_handlers", None)
        if register is not None:
            register(jobs)
        log.info("loaded extra module %s", name)


def _server_run(runtime: JobRuntime) -> ServerRun | None:
    """This server's registration; None before the job runtime has started."""
    try:
        return runtime.run
    except RuntimeError:
        return None


def _server_id(runtime: JobRuntime) -> int | None:
    """This server's registration id; None before the job runtime has started."""
    try:
        return runtime.run.server_id
    except RuntimeError:
        return None


def _announce_first_start(result: Bootstrapped, data_dir: Path) -> None:
    """Tell the operator what the first start created: on the terminal, else in a 0600 file of the data
    directory whose path is logged (never in the log itself)."""
    lines = ["", "Switchboard first start: created the ROOT domain and the admin account (user 'admin')."]
    if result.admin_password is not None:
        lines.append(f"  admin password:   {result.admin_password}   (shown only this once)")
    lines += [
        f"  admin API key:    {result.admin_keys.api_key}",
        f"  admin secret key: {result.admin_keys.secret_key}",
        "  (`switchboard admin api-keys` prints the key pair again; `switchboard admin reset-password` sets a "
        "new password.)",
        "",
    ]
    hand_over(lines, data_dir=data_dir, what="the first start's admin password and API keys")
