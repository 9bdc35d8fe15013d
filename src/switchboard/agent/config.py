"""The agent's configuration file: JSON, a superset of the original agent's `/etc/cloudstack/firecracker-agent.json`.

Every key, its default and its meaning is listed in `docs/agent.md` and shown in
`deploy/firecracker-agent.json`. Top-level sections the agent does not use (the original's `ui`, `console`)
are accepted and ignored so that an existing file keeps working; VNC consoles are set in `defaults.console`.
The `defaults.storage` and `defaults.net` sections are passed whole to the chosen backend, which reads the
keys it knows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from switchboard.agent.backends import NETWORK_ALIASES, STORAGE_ALIASES
from switchboard.agent.storage.params import InvalidRequest as StorageInvalidRequest
from switchboard.agent.storage.params import parse_size
from switchboard.agent.template_sources import SourceNotAllowed, TemplateSources

__all__ = [
    "AgentConfig",
    "AuthConfig",
    "ConfigError",
    "ConsoleDefaults",
    "HostDefaults",
    "LimitsConfig",
    "TemplatesConfig",
    "TlsConfig",
    "load_config",
]


class ConfigError(Exception):
    """The configuration file is missing, is not JSON, or holds a value of the wrong type."""




class _Section(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class HostDefaults(_Section):
    """`defaults.host`: where things live on the host and how VMs are run."""

    # Extra keys (e.g. `vmm_options`, `qemu_bin`, `jailer`) are kept: the VMM driver reads them.
    model_config = ConfigDict(extra="allow", frozen=True)

    vmm: Literal["firecracker", "qemu"] = "firecracker"
    firecracker_bin: str = "/usr/local/bin/firecracker"
    kernel_dir: Path = Path("/var/lib/firecracker/kernel")
    image_dir: Path = Path("/var/lib/firecracker/images")
    state_dir: Path = Path("/var/lib/switchboard-agent")
    run_dir: Path = Path("/run/switchboard-agent")
    log_dir: Path = Path("/var/log/switchboard-agent")
    stop_grace_seconds: float = Field(default=30.0, ge=0)
    reconcile_interval_seconds: float = Field(default=5.0, gt=0)
    restart_on_crash: bool = False
    # Where the kernel's boot id is read; a different id than at launch means the host rebooted.
    boot_id_file: Path = Path("/proc/sys/kernel/random/boot_id")

    def vmm_options(self) -> dict[str, Any]:
        """Everything in `defaults.host` as plain JSON values, for the VMM driver."""
        return self.model_dump(mode="json")


class BackendSection(_Section):
    """`defaults.storage` / `defaults.net`: a `driver` name plus the backend's own keys."""

    model_config = ConfigDict(extra="allow", frozen=True)

    driver: str

    def options(self) -> dict[str, Any]:
        """The section without `driver`, for the backend's constructor."""
        data = self.model_dump(mode="json")
        data.pop("driver", None)
        return data


class StorageDefaults(BackendSection):
    driver: str = "file"
    volume_dir: str = "/var/lib/firecracker/volumes"

    @field_validator("driver")
    @classmethod
    def _alias(cls, value: str) -> str:
        return STORAGE_ALIASES.get(value, value)


class NetDefaults(BackendSection):
    driver: str = "none"

    @field_validator("driver")
    @classmethod
    def _alias(cls, value: str) -> str:
        return NETWORK_ALIASES.get(value, value)


class ConsoleDefaults(_Section):
    """`defaults.console`: VNC consoles on the VMs' serial consoles (Xvfb + xterm + x11vnc)."""

    # Loopback by default: the CloudStack console proxy reaches it through `host.console_host` / a tunnel;
    # set the host's management address to expose it (the original bound 0.0.0.0).
    bind_host: str = "127.0.0.1"
    port_min: int = Field(default=5900, ge=1, le=65535)
    port_max: int = Field(default=5999, ge=1, le=65535)
    # Viewers see the console but cannot type (tmux attach -r, x11vnc -viewonly).
    read_only: bool = False
    # Tear the console down when the first viewer disconnects (x11vnc -once), as the original did.
    once: bool = False
    geometry: str = Field(default="1280x800", pattern=r"^[0-9]{2,5}x[0-9]{2,5}$")
    start_timeout_seconds: float = Field(default=15.0, gt=0)
    xvfb_bin: str = "Xvfb"
    xterm_bin: str = "xterm"
    x11vnc_bin: str = "x11vnc"

    @model_validator(mode="after")
    def _range(self) -> ConsoleDefaults:
        if self.port_min > self.port_max:
            raise ValueError(f"port_min {self.port_min} is above port_max {self.port_max}")
        return self


class Defaults(_Section):
    host: HostDefaults = HostDefaults()
    storage: StorageDefaults = StorageDefaults()
    net: NetDefaults = NetDefaults()
    console: ConsoleDefaults = ConsoleDefaults()


def _bytes(value: object) -> object:
    """A size as bytes: an integer, or a string such as "1T", "512G", "10GiB" (binary units)."""
    if isinstance(value, str):
        try:
            return parse_size(value)
        except StorageInvalidRequest as exc:
            raise ValueError(str(exc)) from exc
    return value


class TemplatesConfig(_Section):
    """`templates`: where template images may be downloaded from (`image_url`), and how."""

    # URL prefixes (http:// or https://, host, optional path); empty: images are never downloaded.
    allowed_sources: tuple[str, ...] = ()
    download_timeout_seconds: float = Field(default=60.0, gt=0)
    max_download_size: int = Field(default=64 << 30, gt=0)

    _size = field_validator("max_download_size", mode="before")(_bytes)

    @field_validator("allowed_sources")
    @classmethod
    def _prefixes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        try:
            TemplateSources(value)
        except SourceNotAllowed as exc:
            raise ValueError(str(exc)) from exc
        return value


class LimitsConfig(_Section):
    """`limits`: the largest disks a request may ask for (a request above them is refused, 400)."""

    max_root_disk_size: int = Field(default=1 << 40, gt=0)
    max_data_disk_size: int = Field(default=1 << 40, gt=0)
    max_data_disks: int = Field(default=8, ge=0, le=8)

    _sizes = field_validator("max_root_disk_size", "max_data_disk_size", mode="before")(_bytes)


class TlsConfig(_Section):
    """`security.tls`: server certificate, client-certificate policy and the client allow-list."""

    enabled: bool = False
    cert_file: Path | None = None
    key_file: Path | None = None
    ca_file: Path | None = None
    client_auth: Literal["none", "optional", "required"] = "none"
    min_version: Literal["TLSv1.2", "TLSv1.3"] = "TLSv1.2"
    # Each entry is an RFC 4514 subject ("CN=mgmt01,O=Example") or "sha256:<hex fingerprint>".
    # Empty means: every certificate that chains to ca_file is accepted.
    allowed_clients: tuple[str, ...] = ()


class SecurityConfig(_Section):
    tls: TlsConfig = TlsConfig()


class AuthConfig(_Section):
    """`auth`: PAM-backed HTTP Basic authentication and group-based authorisation."""

    enabled: bool = False
    service: str = "switchboard-agent"
    admin_group: str | None = "switchboard-admin"
    readonly_group: str | None = "switchboard-readonly"
    max_failures: int = Field(default=5, ge=1)
    failure_window_seconds: float = Field(default=60.0, gt=0)
    lockout_seconds: float = Field(default=60.0, gt=0)
    cache_seconds: float = Field(default=30.0, ge=0)


class LoggingConfig(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class AgentConfig(_Section):
    """The whole file. Unknown top-level sections (`ui`, `console`, ...) are ignored."""

    bind_host: str = "0.0.0.0"
    bind_port: int = Field(default=8080, ge=0, le=65535)
    defaults: Defaults = Defaults()
    security: SecurityConfig = SecurityConfig()
    auth: AuthConfig = AuthConfig()
    templates: TemplatesConfig = TemplatesConfig()
    limits: LimitsConfig = LimitsConfig()
    logging: LoggingConfig = LoggingConfig()

    def effective_defaults(self) -> dict[str, Any]:
        """The `defaults` section with every default filled in (for `GET /v1/config/effective`)."""
        return self.defaults.model_dump(mode="json")


def load_config(path: Path) -> AgentConfig:
    """Read and validate the JSON file at `path`. Raises ConfigError naming the file and the bad key."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"config {path} is not valid JSON: {exc}") from exc
    return parse_config(raw, source=str(path))


def parse_config(raw: object, *, source: str = "<config>") -> AgentConfig:
    """Validate an already-decoded config object. Raises ConfigError."""
    if not isinstance(raw, dict):
        raise ConfigError(f"config {source} must be a JSON object")
    try:
        return AgentConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"config {source}: {problems}") from exc
