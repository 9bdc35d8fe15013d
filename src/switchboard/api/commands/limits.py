"""listResourceLimits and updateResourceLimit: CloudStack's limits on instances, CPU cores and memory per
account and per domain (the rules: `switchboard.compute.limits`, `switchboard.compute.limit_settings`)."""

from __future__ import annotations

from switchboard.api.audit import audit
from switchboard.api.call import Call
from switchboard.api.params import Param, ParamType
from switchboard.api.registry import api_command
from switchboard.api.responses import ListResponse, ObjectResponse, paginate
from switchboard.api.views.limits import RESOURCE_LIMIT, resource_limit_view
from switchboard.compute.limit_settings import list_limits, resource_type, set_limit
from switchboard.roles import ALL_ROLES, RoleType

_LIMIT_ADMINS = frozenset({RoleType.ADMIN, RoleType.DOMAIN_ADMIN, RoleType.RESOURCE_ADMIN})
_TYPES_TEXT = ("Type of resource: 0 - Instance. Number of instances a user can create. 8 - CPU. Number of CPU "
               "an account can allocate for their resources. 9 - Memory. Amount of RAM an account can allocate for "
               "their resources. (Switchboard counts no other type.)")


@api_command(
    "listResourceLimits",
    params=[
        Param("resourcetype", ParamType.INTEGER, description=_TYPES_TEXT),
        Param("resourcetypename", description="Type of resource (wins over resourceType if both are provided): "
              "user_vm, cpu, memory"),
        Param("account", description="list resources by account. Must be used with the domainId parameter."),
        Param("domainid", ParamType.UUID, description="list only resources belonging to the domain specified"),
        Param("isrecursive", ParamType.BOOLEAN, description="defaults to false, but if true, lists all resources "
              "from the parent specified by the domainId till leaves."),
        Param("listall", ParamType.BOOLEAN, description="If set to false, list only resources belonging to the "
              "command's caller"),
    ],
    roles=ALL_ROLES,
    description="Lists resource limits.",
    response=RESOURCE_LIMIT,
    is_list=True,
)
def list_resource_limits(call: Call) -> ListResponse:
    kind = resource_type(call.get("resourcetype"), call.get("resourcetypename"))
    values = list_limits(call.session, call.who, kind, account_name=call.get("account"),
                         domain_uuid=call.get("domainid"))
    items = [resource_limit_view(v.kind, v.maximum, v.domain, v.account) for v in values]
    return ListResponse("resourcelimit", paginate(items, page=call.page, pagesize=call.pagesize), count=len(items))


@api_command(
    "updateResourceLimit",
    params=[
        Param("resourcetype", ParamType.INTEGER, required=True, description=f"{_TYPES_TEXT} Type of resource to "
              "update."),
        Param("max", ParamType.LONG, description="Maximum resource limit."),
        Param("account", description="Update resource for a specified account. Must be used with the domainId "
              "parameter."),
        Param("domainid", ParamType.UUID, description="Update resource limits for all accounts in specified "
              "domain. If used with the account parameter, updates resource limits for a specified account in "
              "specified domain."),
    ],
    roles=_LIMIT_ADMINS,
    description="Updates resource limits for an account or domain.",
    response=RESOURCE_LIMIT,
)
def update_resource_limit(call: Call) -> ObjectResponse:
    kind = resource_type(call.get("resourcetype"), None)
    assert kind is not None  # a required parameter
    value = set_limit(call.session, call.who, kind, call.get("max"), account_name=call.get("account"),
                      domain_uuid=call.get("domainid"))
    owner = value.account if value.account is not None else value.domain
    audit(call, "RESOURCE.LIMIT.UPDATE", f"Resource limit updated. Resource Type: {kind.wire_name}, New Value: "
          f"{value.maximum}", resource_type="Account" if value.account is not None else "Domain",
          resource_uuid=owner.uuid)
    return ObjectResponse("resourcelimit", resource_limit_view(kind, value.maximum, value.domain, value.account))
