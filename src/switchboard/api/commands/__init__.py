"""Every API command module, imported so that the registry knows all commands. Add new modules here
(one `import switchboard.api.commands.<area>` line each, kept sorted)."""

import switchboard.api.commands.apis
import switchboard.api.commands.capabilities
import switchboard.api.commands.clusters
import switchboard.api.commands.configuration
import switchboard.api.commands.console
import switchboard.api.commands.custom_actions
import switchboard.api.commands.events
import switchboard.api.commands.extensions
import switchboard.api.commands.hosts
import switchboard.api.commands.identity
import switchboard.api.commands.instance_updates
import switchboard.api.commands.instances
import switchboard.api.commands.jobs
import switchboard.api.commands.keypairs
import switchboard.api.commands.limits
import switchboard.api.commands.network_offerings
import switchboard.api.commands.network_views
import switchboard.api.commands.networks
import switchboard.api.commands.offerings
import switchboard.api.commands.pods
import switchboard.api.commands.projects
import switchboard.api.commands.snapshots
import switchboard.api.commands.storage
import switchboard.api.commands.tags
import switchboard.api.commands.templates
import switchboard.api.commands.userdata
import switchboard.api.commands.zones  # noqa: F401
