"""Every API command module, imported so that the registry knows all commands. Add new modules here
(one `import switchboard.api.commands.<area>` line each, kept sorted)."""

import switchboard.api.commands.apis
import switchboard.api.commands.capabilities
import switchboard.api.commands.clusters
import switchboard.api.commands.configuration
import switchboard.api.commands.custom_actions
import switchboard.api.commands.events
import switchboard.api.commands.extensions
import switchboard.api.commands.hosts
import switchboard.api.commands.identity
import switchboard.api.commands.instances
import switchboard.api.commands.jobs
import switchboard.api.commands.networks
import switchboard.api.commands.offerings
import switchboard.api.commands.pods
import switchboard.api.commands.templates
import switchboard.api.commands.zones  # noqa: F401
