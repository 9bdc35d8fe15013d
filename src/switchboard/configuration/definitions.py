"""The settings operators see under CloudStack's names (listConfigurations / updateConfiguration), each with
its type, default, allowed scopes and whether a change takes effect at once (`dynamic`).

Two kinds:

* **Stored settings** live only in the database (`api.key.access`, `vm.userdata.max.length`). A value set at
  a narrower scope wins: account, then the account's domain and its ancestors (nearest first), then global,
  then the default.
* **Server settings** are the management server's own settings (`SWITCHBOARD_*`, see `switchboard.settings`)
  that CloudStack has too, shown under CloudStack's name and unit. `variable` names the environment
  variable; the value a server started with comes from it. A dynamic one may also be set globally with
  updateConfiguration: the stored value then wins over the variable, on every server, within
  `LIVE_TTL` seconds. A non-dynamic one is changed only through its variable and a restart.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass


class Scope(enum.StrEnum):
    GLOBAL = "global"
    DOMAIN = "domain"
    ACCOUNT = "account"


GLOBAL_ONLY = frozenset({Scope.GLOBAL})


@dataclass(frozen=True)
class Setting:
    name: str
    type: str  # CloudStack's type names: Boolean, Integer, Long, String
    default: str  # CloudStack's default
    description: str
    category: str
    scopes: frozenset[Scope]
    dynamic: bool = True
    variable: str | None = None  # the server setting's environment variable (None: a stored setting)
    minimum: int | None = None  # the least value an Integer/Long setting takes
    maximum: int | None = None  # the largest
    check: Callable[[str], None] | None = None  # a further rule for the value (raises ValueError)

    def parse(self, value: str) -> str:
        """The canonical text of `value`; ValueError with the rule it breaks."""
        text = value.strip()
        if self.type == "Boolean":
            if text.lower() not in ("true", "false"):
                raise ValueError("expected true or false")
            return text.lower()
        if self.type in ("Integer", "Long"):
            number = int(text)
            if self.minimum is not None and number < self.minimum:
                raise ValueError(f"must be at least {self.minimum}")
            if self.maximum is not None and number > self.maximum:
                raise ValueError(f"must be at most {self.maximum}")
            return str(number)
        if self.check is not None:
            self.check(text)
        return text


def _regex(text: str) -> None:
    try:
        re.compile(text)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from None


_GLOBAL_AND_DOMAIN = frozenset({Scope.GLOBAL, Scope.DOMAIN})


def _password_policy() -> tuple[Setting, ...]:
    """CloudStack's password policy (PasswordPolicy, 4.19+), global and per domain. Switchboard requires at
    least 8 characters by default where CloudStack requires none."""

    def minimum(name: str, default: str, text: str) -> Setting:
        return Setting(name=name, type="Integer", default=default, description=text, category="Advanced",
                       scopes=_GLOBAL_AND_DOMAIN, minimum=0)

    return (
        minimum("password.policy.minimum.length", "8", "Minimum length that the user's password must have. The "
                "value 0 means the user's password can have any length."),
        minimum("password.policy.minimum.special.characters", "0", "Minimum number of special characters that "
                "the user's password must have. Any character that is neither a letter nor numeric is considered "
                "special. The value 0 means the user's password does not require any special characters."),
        minimum("password.policy.minimum.uppercase.letters", "0", "Minimum number of uppercase letters [A-Z] "
                "that the user's password must have. The value 0 means the user's password does not require any "
                "uppercase letters."),
        minimum("password.policy.minimum.lowercase.letters", "0", "Minimum number of lowercase letters [a-z] "
                "that the user's password must have. The value 0 means the user's password does not require any "
                "lowercase letters."),
        minimum("password.policy.minimum.digits", "0", "Minimum number of numeric characters [0-9] that the "
                "user's password must have. The value 0 means the user's password does not require any numeric "
                "characters."),
        Setting(name="password.policy.allowPasswordToContainUsername", type="Boolean", default="true",
                description="Indicates if the user's password may contain their username. Set 'true' (default) "
                "if it is allowed, otherwise set 'false'.", category="Advanced", scopes=_GLOBAL_AND_DOMAIN),
        Setting(name="password.policy.regex", type="String", default=".+", description="A regular expression "
                "that the user's password must match. The default expression '.+' will match with any password.",
                category="Advanced", scopes=_GLOBAL_AND_DOMAIN, check=_regex),
    )


def _resource_limits() -> tuple[Setting, ...]:
    """CloudStack's default account and domain limits (updateResourceLimit sets one for an account or a
    domain) and the largest instance a service offering, custom or not, may give: global settings."""

    def limit(name: str, default: str, text: str, category: str) -> Setting:
        return Setting(name=name, type="Integer", default=default, description=f"{text}; -1 for no limit",
                       category=category, scopes=frozenset({Scope.GLOBAL}), minimum=-1)

    def maximum(name: str, text: str) -> Setting:
        return Setting(name=name, type="Integer", default="0", description=f"{text}. If 0 - no limitation",
                       category="Advanced", scopes=frozenset({Scope.GLOBAL}), minimum=0)

    return (
        limit("max.account.user.vms", "20", "The default maximum number of user VMs that can be deployed for an "
              "account", "Account Defaults"),
        limit("max.account.cpus", "40", "The default maximum number of cpu cores that can be used for an account",
              "Account Defaults"),
        limit("max.account.memory", "40960", "The default maximum memory (in MB) that can be used for an account",
              "Account Defaults"),
        limit("max.domain.user.vms", "40", "The default maximum number of user VMs that can be deployed for a "
              "domain", "Domain Defaults"),
        limit("max.domain.cpus", "80", "The default maximum number of cpu cores that can be used for a domain",
              "Domain Defaults"),
        limit("max.domain.memory", "81920", "The default maximum memory (in MB) that can be used for a domain",
              "Domain Defaults"),
        maximum("vm.serviceoffering.cpu.cores.max", "Maximum CPU cores for vm service offering"),
        maximum("vm.serviceoffering.ram.size.max", "Maximum RAM size in MB for vm service offering"),
    )


_SETTINGS = (
    Setting(
        name="api.key.access", type="Boolean", default="true",
        description="Whether users may call the API with their API keys (signed requests). Set false for a "
        "domain or an account to allow only login sessions there.",
        category="Advanced", scopes=frozenset({Scope.GLOBAL, Scope.DOMAIN, Scope.ACCOUNT}),
    ),
    Setting(
        name="vm.userdata.max.length", type="Integer", default="32768",
        description="Max length of vm userdata after base64 encoding. Default is 32768 and maximum is 1048576",
        category="Advanced", scopes=GLOBAL_ONLY, minimum=1, maximum=1048576,
    ),
    Setting(
        name="wait", type="Integer", default="1800",
        description="Time in seconds to wait for control commands to return: the timeout of every extension "
        "lifecycle action and of status/statuses (argv[3])",
        category="Advanced", scopes=GLOBAL_ONLY, variable="SWITCHBOARD_EXTENSION_WAIT", minimum=1,
    ),
    Setting(
        name="job.expire.minutes", type="Long", default="1440",
        description="Time (in minutes) for async-jobs to be kept in system",
        category="Advanced", scopes=GLOBAL_ONLY, variable="SWITCHBOARD_JOB_EXPIRE", minimum=1,
    ),
    Setting(
        name="extension.path.state.check.interval", type="Integer", default="300",
        description="Interval (in seconds) for checking state of extensions path",
        category="Advanced", scopes=GLOBAL_ONLY, dynamic=False, variable="SWITCHBOARD_EXTENSION_PATH_CHECK_INTERVAL",
    ),
    Setting(
        name="ping.interval", type="Integer", default="60",
        description="Interval in seconds between rounds of power-state reports from the hosts (power sync)",
        category="Advanced", scopes=GLOBAL_ONLY, dynamic=False, variable="SWITCHBOARD_POWER_SYNC_INTERVAL",
    ),
    Setting(
        name="enforce.post.requests.and.timestamps", type="Boolean", default="false",
        description="Enable/Disable whether the ApiServer should only accept requests with timestamps "
        "(signature version 3 with expires)",
        category="Advanced", scopes=GLOBAL_ONLY, dynamic=False, variable="SWITCHBOARD_ENFORCE_SIGNATURE_TIMESTAMPS",
    ),
    Setting(
        name="cluster.heartbeat.interval", type="Integer", default="1500",
        description="Interval (in milliseconds) of management server heartbeats",
        category="management-server", scopes=GLOBAL_ONLY, dynamic=False, variable="SWITCHBOARD_HEARTBEAT_INTERVAL",
    ),
    Setting(
        name="cluster.heartbeat.threshold", type="Integer", default="150000",
        description="Threshold (in milliseconds) before a silent management server is taken for dead",
        category="management-server", scopes=GLOBAL_ONLY, dynamic=False, variable="SWITCHBOARD_HEARTBEAT_TIMEOUT",
    ),
    *_password_policy(),
    *_resource_limits(),
)

DEFINITIONS: dict[str, Setting] = {setting.name: setting for setting in _SETTINGS}
