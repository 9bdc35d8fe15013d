"""The jobs of the async infrastructure commands: updateNetwork, deleteNetwork, deleteTemplate,
prepareHostForMaintenance and cancelHostMaintenance.

Every job is a single transaction: a server dying mid-job leaves nothing half-done to repair, so none has an
interruption hook. What a finished job shows of a network or a host is the API's business: the caller passes
the views.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from switchboard.db.models.infrastructure import Network
from switchboard.infra import hosts, networks, templates, zones
from switchboard.infra.events import ActorIds, record_event
from switchboard.infra.usage import UsageChecks
from switchboard.jobs import JobContext, JobHandlers
from switchboard.roles import RoleType

__all__ = ["DELETE_NETWORK_JOB", "DELETE_TEMPLATE_JOB", "MAINTENANCE_JOB", "UPDATE_NETWORK_JOB", "HostView",
           "NetworkView", "register_infra_jobs"]

UPDATE_NETWORK_JOB = "infra.updateNetwork"
DELETE_NETWORK_JOB = "infra.deleteNetwork"
DELETE_TEMPLATE_JOB = "infra.deleteTemplate"
MAINTENANCE_JOB = "infra.hostMaintenance"

# A network as a job's result shows it (the admin's full view or not).
NetworkView = Callable[[Session, Network, bool], dict[str, Any]]
# A host (by public id) as a job's result shows it.
HostView = Callable[[Session, str], dict[str, Any]]


def register_infra_jobs(handlers: JobHandlers, *, checks: UsageChecks, network_view: NetworkView,
                        host_view: HostView) -> None:
    """Register the handlers of the infrastructure jobs; `checks` guard what a deletion may remove."""

    def delete_network(ctx: JobContext) -> dict[str, Any]:
        with ctx.db.session() as session:
            network = networks.get_network(session, ctx.args["id"], parameter="id")
            networks.delete_network(session, network, checks=checks)
            record_event(session, type="NETWORK.DELETE", description=f"Deleted network {network.name}",
                         actor=_actor(ctx), resource_type="Network", resource_uuid=network.uuid)
        return {"success": True}

    def update_network(ctx: JobContext) -> dict[str, Any]:
        args = ctx.args
        with ctx.db.session() as session:
            network = networks.get_network(session, args["id"], parameter="id")
            networks.update_network(session, network, name=args.get("name"),
                                    display_text=args.get("displaytext"), network_domain=args.get("networkdomain"),
                                    display=args.get("displaynetwork"))
            record_event(session, type="NETWORK.UPDATE", description=f"Updated network {network.name}",
                         actor=_actor(ctx), resource_type="Network", resource_uuid=network.uuid)
            return {"network": network_view(session, network, ctx.owner.role_type == RoleType.ADMIN.wire_name)}

    def delete_template(ctx: JobContext) -> dict[str, Any]:
        with ctx.db.session() as session:
            template = templates.get_template(session, ctx.args["id"])
            zone = zones.get_zone(session, ctx.args["zoneid"]) if ctx.args.get("zoneid") else None
            templates.delete_template(session, template, zone=zone)
            record_event(session, type="TEMPLATE.DELETE", description=f"Deleted template {template.name}",
                         actor=_actor(ctx), resource_type="Template", resource_uuid=template.uuid)
        return {"success": True}

    def maintenance(ctx: JobContext) -> dict[str, Any]:
        enter = bool(ctx.args["enter"])
        with ctx.db.session() as session:
            host = hosts.get_host(session, ctx.args["id"])
            hosts.set_maintenance(session, host, enter=enter)
            record_event(session, type="MAINT.PREPARE" if enter else "MAINT.CANCEL",
                         description=f"Host {host.name} {'in' if enter else 'out of'} maintenance",
                         actor=_actor(ctx), resource_type="Host", resource_uuid=host.uuid)
            return {"host": host_view(session, host.uuid)}

    handlers.register(DELETE_NETWORK_JOB, delete_network)
    handlers.register(UPDATE_NETWORK_JOB, update_network)
    handlers.register(DELETE_TEMPLATE_JOB, delete_template)
    handlers.register(MAINTENANCE_JOB, maintenance)


def _actor(ctx: JobContext) -> ActorIds:
    owner = ctx.owner
    return ActorIds(user_id=owner.user_id, account_id=owner.account_id, domain_id=owner.domain_id)
