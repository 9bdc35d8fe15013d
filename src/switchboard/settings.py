"""Every setting of the management server, in one typed model read once at start.

Each setting is an environment variable `SWITCHBOARD_<NAME>`; some also have a command-line flag. Flags win
over the environment, which wins over the defaults. A bad value stops the server at start with a message
that names the variable (or flag). The README's settings table is generated from this model
(`python -m switchboard.settings` prints it; a test keeps the two in step).

The areas never read the environment: the composition root hands each the values it needs
(`job_settings()`, `compute_settings()`, `guest_vlans`, ...).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from switchboard.compute.settings import ComputeSettings
from switchboard.demo.settings import DemoSettings
from switchboard.extensions.readiness import CHECK_INTERVAL_DEFAULT
from switchboard.identity.throttle import ThrottleLimits
from switchboard.jobs.settings import JobSettings

__all__ = ["ENV_PREFIX", "Settings", "SettingsError", "markdown_table", "sqlite_url"]

ENV_PREFIX = "SWITCHBOARD_"
_VLAN_RANGE = re.compile(r"^\s*(\d{1,4})\s*-\s*(\d{1,4})\s*$")
_VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _setting(default: Any, meaning: str, *, shown: str | None = None, flag: str | None = None,
             **constraints: Any) -> Any:
    """A field of the settings model: its default, what it means (the README's words), the default as the
    README shows it when it is computed (`shown`), and the command-line flag that may set it."""
    return Field(default, description=meaning, json_schema_extra={"shown": shown, "flag": flag}, **constraints)


class SettingsError(ValueError):
    """One or more settings are invalid; the message has one line per problem, naming the variable or flag."""


class Settings(BaseSettings):
    """The management server's settings (see the module docstring). Build it with `Settings.load(...)`."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_ignore_empty=True, extra="ignore")

    # -- the server -------------------------------------------------------------------------------------
    data_dir: Path = _setting(
        Path("./data"), "data directory: SQLite file, `secret.key`, extensions and payload roots",
        shown="`./data`", flag="--data-dir")
    database_url: str = _setting(
        "", "SQLAlchemy URL (`postgresql+psycopg://…` for PostgreSQL)", shown="SQLite in the data dir",
        flag="--database-url")
    key_file: Path | None = _setting(
        None, "the server key that seals API secrets and session keys (0600; created at first start); servers "
        "sharing a database must share it", shown="`secret.key` in the data dir", flag="--key-file")
    host: str = _setting("127.0.0.1", "address the server listens on", flag="--host")
    port: int = _setting(8080, "port the server listens on", flag="--port", ge=1, le=65535)
    server_name: str = _setting(
        "", "this server's name in the job queue (must differ between servers)", shown="`<host name>:<port>`")
    demo: bool = _setting(True, "seed the demo cloud into an empty cloud", flag="--no-demo")
    demo_microvms: bool = _setting(
        True, "the demo runs real microVMs (a local agent with QEMU, as root) where the machine can; `0`: its "
        "instances are always pretend")
    guest_dir: Path | None = _setting(
        None, "where the demo's guest image (`scripts/build-guest.py`) is built and cached",
        shown="`demo/guest` in the data dir")
    # -- identity ---------------------------------------------------------------------------------------
    admin_password: SecretStr | None = _setting(
        None, "the admin password set at the first start", shown="random, printed once")
    enforce_signature_timestamps: bool = _setting(
        False, "CloudStack's `enforce.post.requests.and.timestamps`: signed requests must use "
        "signatureversion=3 and `expires` at most 15 minutes ahead")
    key_cache_ttl: float = _setting(
        10.0, "seconds a verified API key stays cached in a server process (a backstop: revoking a key, "
        "disabling its user or changing `api.key.access` through any server takes effect at the next request "
        "everywhere)", ge=0)
    login_failures_per_user: int = _setting(
        5, "failed logins a user may have in `SWITCHBOARD_LOGIN_THROTTLE_WINDOW` seconds; then every login of "
        "that user is refused (429, no password checked) until the window lets one more through", ge=1)
    login_failures_per_address: int = _setting(
        20, "failed logins one source address may have in `SWITCHBOARD_LOGIN_THROTTLE_WINDOW` seconds (behind a "
        "reverse proxy, every client has the proxy's address)", ge=1)
    login_throttle_window: float = _setting(
        60.0, "seconds in which an exhausted login allowance refills completely", gt=0)
    # -- extensions -------------------------------------------------------------------------------------
    extensions_layout: Literal["switchboard", "cloudstack"] = _setting(
        "switchboard", "`cloudstack` uses `/usr/share/cloudstack-management/extensions` and CloudStack's "
        "payload directory")
    extensions_root: Path | None = _setting(None, "extension executables", shown="by the layout")
    extensions_data: Path | None = _setting(None, "payload files", shown="by the layout")
    extension_wait: int = _setting(
        1800, "CloudStack's `wait`: timeout of lifecycle actions and `status`/`statuses`, argv[3]", ge=1)
    extension_path_check_interval: float = _setting(
        float(CHECK_INTERVAL_DEFAULT), "`extension.path.state.check.interval`: readiness check period (s)",
        gt=0)
    extension_env_passthrough: Annotated[tuple[str, ...], NoDecode] = _setting(
        (), "comma-separated names of the server's environment variables passed on to extensions (e.g. "
        "`HTTPS_PROXY,NO_PROXY,REQUESTS_CA_BUNDLE`); never `SWITCHBOARD_*`")
    extension_env: Annotated[dict[str, str], NoDecode] = _setting(
        {}, "variables added to every extension's environment, a JSON object (e.g. "
        "`{\"PYTHONPATH\": \"/opt/lib\"}`); they win over the pass-through and the defaults")
    # -- compute ----------------------------------------------------------------------------------------
    power_sync_interval: float = _setting(60.0, "seconds between power-sync rounds", gt=0)
    power_sync_concurrency: int = _setting(
        16, "at most this many per-instance `status` runs at a time per power-sync round", ge=1)
    statuses_retry: float = _setting(
        3600.0, "seconds an extension that failed `statuses` is asked per instance before `statuses` is tried "
        "again", ge=0)
    # -- jobs -------------------------------------------------------------------------------------------
    # Workers mostly wait on extension runs (a deploy waits for its VM to boot): a burst of deploys should
    # not queue behind a handful of them (bench/e2e.py: 10 deploys take 3.3x a direct create with 4
    # workers, 1.5x with 10).
    job_workers: int = _setting(10, "job worker threads per server", ge=1)
    job_poll_interval: float = _setting(1.0, "seconds between polls of the job queue", gt=0)
    heartbeat_interval: float = _setting(3.0, "seconds between this server's liveness stamps", gt=0)
    heartbeat_timeout: float = _setting(
        20.0, "a server silent this long is taken for dead: its jobs are failed and repaired by the others "
        "(keep the servers' clocks in sync)", gt=0)
    job_shutdown_grace: float = _setting(10.0, "seconds running jobs are given at a clean stop", ge=0)
    job_expire: float = _setting(86400.0, "seconds after which finished jobs are purged", gt=0)
    extra_modules: Annotated[tuple[str, ...], NoDecode] = _setting(
        (), "comma-separated modules imported at start that may register job handlers (plug-ins, tests)")
    # -- infrastructure ---------------------------------------------------------------------------------
    guest_vlan_range: str = _setting(
        "100-4094", "VLANs given to new guest networks, FIRST-LAST (one range for every zone)")

    @classmethod
    def load(cls, **flags: Any) -> Settings:
        """The settings from `flags` (None: not given), the environment and the defaults. Raises SettingsError
        naming every bad variable or flag."""
        given = {name: value for name, value in flags.items() if value is not None}
        try:
            return cls(**given)
        except ValidationError as error:
            raise SettingsError(_explain(error, given)) from None

    @field_validator("extra_modules", "extension_env_passthrough", mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(name.strip() for name in value.split(",") if name.strip())
        return value

    @field_validator("extension_env_passthrough")
    @classmethod
    def _check_passthrough(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            _check_variable_name(name)
            if name.upper().startswith(ENV_PREFIX):
                raise ValueError(f"{name}: the server's own settings (which hold secrets) are never passed on")
        return value

    @field_validator("extension_env", mode="before")
    @classmethod
    def _parse_added(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise ValueError('must be a JSON object, e.g. {"PYTHONPATH": "/opt/lib"}') from None
        return value

    @field_validator("extension_env")
    @classmethod
    def _check_added(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            _check_variable_name(name)
        return value

    @field_validator("guest_vlan_range")
    @classmethod
    def _check_vlan_range(cls, value: str) -> str:
        parse_vlan_range(value)
        return value

    @model_validator(mode="after")
    def _derive(self) -> Settings:
        if self.heartbeat_timeout <= self.heartbeat_interval:
            raise ValueError("SWITCHBOARD_HEARTBEAT_TIMEOUT must be longer than SWITCHBOARD_HEARTBEAT_INTERVAL")
        self.data_dir = self.data_dir.resolve()
        self.key_file = self.key_file.resolve() if self.key_file else self.data_dir / "secret.key"
        self.database_url = self.database_url or sqlite_url(self.data_dir)
        self.server_name = self.server_name or f"{self.node_name}:{self.port}"
        return self

    @property
    def server_key_file(self) -> Path:
        """The server key file (`key_file`, else `secret.key` in the data directory)."""
        assert self.key_file is not None  # set by _derive
        return self.key_file

    @property
    def admin_password_clear(self) -> str | None:
        """The first-start admin password in the clear; None when it is to be generated."""
        return self.admin_password.get_secret_value() if self.admin_password else None

    @property
    def node_name(self) -> str:
        """This machine's host name."""
        return os.uname().nodename

    def extension_environment(self) -> dict[str, str]:
        """What extensions get besides the runner's fixed variables: the pass-through variables this server
        has, then the added ones."""
        passed = {name: os.environ[name] for name in self.extension_env_passthrough if name in os.environ}
        return {**passed, **self.extension_env}

    @property
    def guest_vlans(self) -> range:
        """`guest_vlan_range` as the range of VLAN tags it names."""
        return parse_vlan_range(self.guest_vlan_range)

    def login_limits(self) -> ThrottleLimits:
        """How failed logins are throttled."""
        return ThrottleLimits(per_user=self.login_failures_per_user, per_address=self.login_failures_per_address,
                              window=self.login_throttle_window)

    def job_settings(self) -> JobSettings:
        """The job machinery's parameters."""
        return JobSettings(workers=self.job_workers, poll_interval=self.job_poll_interval,
                           heartbeat_interval=self.heartbeat_interval, heartbeat_timeout=self.heartbeat_timeout,
                           shutdown_grace=self.job_shutdown_grace, expire_after=self.job_expire)

    def demo_settings(self) -> DemoSettings:
        """The demo's parameters."""
        directory = self.data_dir / "demo"
        return DemoSettings(seed=self.demo, microvms=self.demo_microvms, directory=directory,
                            guest_dir=(self.guest_dir or directory / "guest").resolve(),
                            guest_vlans=self.guest_vlans, host=self.host, port=self.port)

    def configuration_values(self) -> dict[str, str]:
        """The server settings CloudStack has too, under CloudStack's names and units (listConfigurations)."""
        return {
            "wait": str(self.extension_wait),
            "job.expire.minutes": _whole(self.job_expire / 60),
            "extension.path.state.check.interval": _whole(self.extension_path_check_interval),
            "ping.interval": _whole(self.power_sync_interval),
            "enforce.post.requests.and.timestamps": str(self.enforce_signature_timestamps).lower(),
            "cluster.heartbeat.interval": _whole(self.heartbeat_interval * 1000),
            "cluster.heartbeat.threshold": _whole(self.heartbeat_timeout * 1000),
        }

    def compute_settings(self) -> ComputeSettings:
        """The compute area's parameters."""
        return ComputeSettings(wait=self.extension_wait, power_sync_interval=self.power_sync_interval,
                               power_sync_concurrency=self.power_sync_concurrency,
                               statuses_retry=self.statuses_retry)


def _whole(value: float) -> str:
    """A number as an integer setting shows it: rounded, and at least 1 when it is not 0."""
    return str(max(round(value), 1) if value else 0)


def parse_vlan_range(text: str) -> range:
    """"100-199" → range(100, 200). ValueError unless it is FIRST-LAST with 1 <= FIRST <= LAST <= 4094."""
    match = _VLAN_RANGE.match(text)
    if match:
        first, last = int(match[1]), int(match[2])
        if 1 <= first <= last <= 4094:
            return range(first, last + 1)
    raise ValueError("must be FIRST-LAST with 1 <= FIRST <= LAST <= 4094")


def _check_variable_name(name: str) -> None:
    if not _VARIABLE_NAME.match(name):
        raise ValueError(f"{name!r} is not an environment variable name")


def sqlite_url(data_dir: Path) -> str:
    """The default database: `switchboard.db` in the data directory."""
    return f"sqlite:///{data_dir / 'switchboard.db'}"


def variable(field_name: str) -> str:
    """The environment variable of a settings field."""
    return f"{ENV_PREFIX}{field_name.upper()}"


def _explain(error: ValidationError, flags: dict[str, Any]) -> str:
    lines = []
    for problem in error.errors():
        message = str(problem["msg"]).removeprefix("Value error, ")
        if not problem["loc"]:
            lines.append(message)
            continue
        name = str(problem["loc"][0])
        extra = Settings.model_fields[name].json_schema_extra
        flag = extra.get("flag") if isinstance(extra, dict) and name in flags else None
        source = str(flag) if flag else variable(name)
        lines.append(f"{source}={problem['input']!r}: {message}")
    return "invalid settings:\n  " + "\n  ".join(lines)


def markdown_table() -> str:
    """The README's settings table: variable (and flag), default, meaning — one row per setting."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        flag = f" (`{extra['flag']}`)" if extra.get("flag") else ""
        default = extra.get("shown") or _shown(field.default)
        rows.append(f"| `{variable(name)}`{flag} | {default} | {field.description} |")
    return "\n".join(rows)


def _shown(default: Any) -> str:
    if default is None or default == () or default == {}:
        return ""
    if isinstance(default, bool):
        return "`1`" if default else "off"
    if isinstance(default, float) and default.is_integer():
        default = int(default)
    return f"`{default}`"


if __name__ == "__main__":
    print(markdown_table())
