"""Wiring of the infrastructure area: its settings (switchboard.infra.settings, from the environment), the
usage-check registry other areas add to, and the job handlers of its async commands (updateNetwork,
deleteNetwork, deleteTemplate, prepareHostForMaintenance, cancelHostMaintenance).

Areas wired later may:
* register deletion guards: `parts.services.registry[USAGE_SERVICE].register("host", check)`;
* provide the extension linker under `LINKER_SERVICE` (see switchboard.infra.extension_link).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from switchboard.api.commands.hosts import MAINTENANCE_JOB, host_response
from switchboard.api.commands.networks import DELETE_NETWORK_JOB, UPDATE_NETWORK_JOB, network_response
from switchboard.api.commands.templates import DELETE_TEMPLATE_JOB
from switchboard.infra import hosts, networks, templates, zones
from switchboard.infra.events import ActorIds, record_event
from switchboard.infra.extension_link import linker_from
from switchboard.infra.settings import SETTINGS_SERVICE, InfraSettings
from switchboard.infra.usage import USAGE_SERVICE, UsageChecks
from switchboard.jobs import JobContext, job_service
from switchboard.roles import RoleType
from switchboard.services import Services

if TYPE_CHECKING:
    from switchboard.server import ServerParts


def _actor(ctx: JobContext) -> ActorIds:
    owner = ctx.owner
    return ActorIds(user_id=owner.user_id, account_id=owner.account_id, domain_id=owner.domain_id)


def _delete_network(checks: UsageChecks) -> Any:
    def run(ctx: JobContext) -> dict[str, Any]:
        with ctx.db.session() as session:
            network = networks.get_network(session, ctx.args["id"], parameter="id")
            networks.delete_network(session, network, checks=checks)
            record_event(session, type="NETWORK.DELETE", description=f"Deleted network {network.name}",
                         actor=_actor(ctx), resource_type="Network", resource_uuid=network.uuid)
        return {"success": True}

    return run


def _update_network(ctx: JobContext) -> dict[str, Any]:
    args = ctx.args
    with ctx.db.session() as session:
        network = networks.get_network(session, args["id"], parameter="id")
        networks.update_network(session, network, name=args.get("name"), display_text=args.get("displaytext"),
                                network_domain=args.get("networkdomain"), display=args.get("displaynetwork"))
        record_event(session, type="NETWORK.UPDATE", description=f"Updated network {network.name}",
                     actor=_actor(ctx), resource_type="Network", resource_uuid=network.uuid)
        return {"network": network_response(session, network, full=ctx.owner.role_type == RoleType.ADMIN.wire_name)}


def _delete_template(ctx: JobContext) -> dict[str, Any]:
    with ctx.db.session() as session:
        template = templates.get_template(session, ctx.args["id"])
        zone = zones.get_zone(session, ctx.args["zoneid"]) if ctx.args.get("zoneid") else None
        templates.delete_template(session, template, zone=zone)
        record_event(session, type="TEMPLATE.DELETE", description=f"Deleted template {template.name}",
                     actor=_actor(ctx), resource_type="Template", resource_uuid=template.uuid)
    return {"success": True}


def _maintenance(services: Services) -> Any:
    def run(ctx: JobContext) -> dict[str, Any]:
        enter = bool(ctx.args["enter"])
        with ctx.db.session() as session:
            host = hosts.get_host(session, ctx.args["id"])
            hosts.set_maintenance(session, host, enter=enter)
            record_event(session, type="MAINT.PREPARE" if enter else "MAINT.CANCEL",
                         description=f"Host {host.name} {'in' if enter else 'out of'} maintenance",
                         actor=_actor(ctx), resource_type="Host", resource_uuid=host.uuid)
            return {"host": host_response(session, linker_from(services.registry), host.uuid)}

    return run


def wire(parts: ServerParts) -> None:
    checks = UsageChecks()
    parts.services.registry[USAGE_SERVICE] = checks
    parts.services.registry[SETTINGS_SERVICE] = InfraSettings.from_env()
    handlers = job_service(parts.services).handlers
    # Every job is a single transaction: a server dying mid-job leaves nothing half-done to repair.
    handlers.register(DELETE_NETWORK_JOB, _delete_network(checks))
    handlers.register(UPDATE_NETWORK_JOB, _update_network)
    handlers.register(DELETE_TEMPLATE_JOB, _delete_template)
    handlers.register(MAINTENANCE_JOB, _maintenance(parts.services))
