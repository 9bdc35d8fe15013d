"""The long-lived services API handlers reach through `call.services`.

Built once per process by the composition root (switchboard.server); handlers never build services. Every
field is typed: a handler asks for `call.services.lifecycle`, never for a name in a registry.
"""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.compute.console import ConsoleAccess
from switchboard.compute.lifecycle import Lifecycle
from switchboard.configuration import LiveSettings
from switchboard.extensions.custom_actions.run import ActionRunner
from switchboard.extensions.registry import ExtensionRegistry
from switchboard.identity.credentials import CredentialChanges
from switchboard.identity.keys import ApiKeys
from switchboard.identity.login import Login
from switchboard.identity.serverkey import ServerKey
from switchboard.identity.users import Users
from switchboard.infra.extension_link import ExtensionLinker
from switchboard.infra.usage import UsageChecks
from switchboard.jobs import JobService


@dataclass(frozen=True, kw_only=True)
class Services:
    # identity
    login: Login
    users: Users
    keys: ApiKeys
    credentials: CredentialChanges
    server_key: ServerKey
    # jobs: queueing is the dispatcher's (switchboard.api.async_jobs); this answers queries about jobs
    jobs: JobService
    # infrastructure
    usage: UsageChecks  # deletion guards other areas registered
    guest_vlans: range  # the VLANs new guest networks take theirs from
    # extensions
    extensions: ExtensionRegistry
    linker: ExtensionLinker  # which extension a cluster or template may be tied to
    custom_actions: ActionRunner  # runs an action now (listVMSnapshot runs ListSnapshots)
    # compute
    lifecycle: Lifecycle
    consoles: ConsoleAccess  # console endpoints and their single-use tickets
    # settings under CloudStack's names, as this server runs with them
    settings: LiveSettings
