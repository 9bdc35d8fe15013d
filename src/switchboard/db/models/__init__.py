"""Every model module, imported so that `Base.metadata` knows all tables.

One module per area; each area's owner adds its module here (one `import` line each, kept sorted).
"""

import switchboard.db.models.compute
import switchboard.db.models.configuration
import switchboard.db.models.events
import switchboard.db.models.extensions
import switchboard.db.models.guest_data
import switchboard.db.models.identity
import switchboard.db.models.infrastructure
import switchboard.db.models.jobs
import switchboard.db.models.projects
import switchboard.db.models.storage
import switchboard.db.models.tags  # noqa: F401
