"""Every API command module, imported so that the registry knows all commands. Add new modules here
(one `import switchboard.api.commands.<area>` line each, kept sorted)."""

import switchboard.api.commands.apis
import switchboard.api.commands.identity
import switchboard.api.commands.jobs  # noqa: F401
