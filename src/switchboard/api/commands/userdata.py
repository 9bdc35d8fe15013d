"""User data commands: registerUserData, listUserData, deleteUserData and getVirtualMachineUserData."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from switchboard import configuration
from switchboard.api.audit import audit
from switchboard.api.call import Call
from switchboard.api.owners import OWNER_PARAMS, list_owner, owner_of_call
from switchboard.api.paging import listing, page_of
from switchboard.api.params import Param, ParamType
from switchboard.api.registry import api_command
from switchboard.api.responses import ListResponse, ObjectResponse, SuccessResponse
from switchboard.api.shapes import SUCCESS, Field, Shape, T
from switchboard.api.views.fields import OWNED_FIELDS
from switchboard.compute.instance_rows import get_instance
from switchboard.db.models.guest_data import InstanceUserData, UserData
from switchboard.db.models.identity import Domain
from switchboard.errors import InvalidParameter
from switchboard.identity.projects import check_owner
from switchboard.infra import userdata
from switchboard.infra.owned import OwnerNames, owner_names
from switchboard.roles import ALL_ROLES

USER_DATA = "UserData"
MAX_LENGTH = "vm.userdata.max.length"


USER_DATA_SHAPE = Shape("userdata", [
    Field("id", T.STRING, "ID of the User Data"),
    Field("name", T.STRING, "Name of the User Data"),
    *OWNED_FIELDS,
    Field("userdata", T.STRING, "base64 encoded User Data content"),
    Field("params", T.STRING, "list of parameters which contains the list of keys or string parameters that are "
          "needed to be passed for any variables declared in the User Data"),
])
VM_USER_DATA = Shape("virtualmachineuserdata", [
    Field("virtualmachineid", T.STRING, "the ID of the virtual machine"),
    Field("userdata", T.STRING, "Base 64 encoded VM user data"),
])


def max_length(call: Call) -> int:
    """`vm.userdata.max.length`, the longest user data (base64 characters) a command accepts."""
    return int(configuration.effective_value(call.session, MAX_LENGTH))


def user_data_of_call(call: Call, may_use: Callable[[UserData], None]) -> tuple[str | None, int | None]:
    """The user data a deploy or update gives: `userdata` text, or registered user data `userdataid` that
    `may_use` accepts (it raises otherwise), never both. Returns (content, registered user data's id)."""
    content = userdata.validate_user_data(call.get("userdata"), method=call.meta.method, max_length=max_length(call))
    if call.get("userdataid") is None:
        return content, None
    if content is not None:
        raise InvalidParameter("Both userdata and userdata ID inputs are not allowed, please provide only one",
                               parameter="userdataid")
    registered = userdata.get_user_data(call.session, call.get("userdataid"))
    may_use(registered)
    return registered.content, registered.id


def user_data_view(row: UserData, owner: OwnerNames | None) -> dict[str, Any]:
    """CloudStack's UserDataResponse."""
    fields: dict[str, Any] = {"id": row.uuid, "name": row.name}
    if owner is not None:
        fields.update(owner.fields(account_id=True, domain_path=True))
    fields["userdata"] = row.content
    if row.params:
        fields["params"] = row.params
    return fields


@api_command(
    "registerUserData",
    params=[
        Param("name", required=True, description="Name of the user data"),
        Param("userdata", required=True, description="User data content (base64)", length=1048576),
        Param("params", description="comma separated list of variables declared in user data content"),
        *OWNER_PARAMS,
    ],
    roles=ALL_ROLES,
    description="Register a new userdata.",
    response=USER_DATA_SHAPE,
    since="4.18",
)
def register_user_data(call: Call) -> ObjectResponse:
    owner = owner_of_call(call)
    row = userdata.register_user_data(call.session, owner, name=call.get("name"), content=call.get("userdata"),
                                      params=call.get("params"), method=call.meta.method,
                                      max_length=max_length(call))
    audit(call, "REGISTER.USER.DATA", f"Registered user data {row.name}", resource_type=USER_DATA,
          resource_uuid=row.uuid)
    return ObjectResponse("userdata", user_data_view(row, owner_names(call.session, [row.account_id])
                                                     .get(row.account_id)))


@api_command(
    "listUserData",
    params=[
        Param("id", ParamType.UUID, description="the ID of the Userdata"),
        Param("name", description="Userdata name to look for"),
        *OWNER_PARAMS,
        Param("isrecursive", ParamType.BOOLEAN, description="list resources in the domain's subdomains too"),
    ],
    roles=ALL_ROLES,
    description="List registered userdatas",
    response=USER_DATA_SHAPE,
    is_list=True,
    since="4.18",
)
def list_user_data(call: Call) -> ListResponse:
    filters = userdata.UserDataFilter(uuid=call.get("id"), name=call.get("name"), account_id=list_owner(call),
                                      list_all=bool(call.get("listall")))
    found, total = userdata.list_user_data(call.session, call.who, page_of(call), filters)
    owners = owner_names(call.session, [row.account_id for row in found])
    return listing("userdata", found, total, lambda row: user_data_view(row, owners.get(row.account_id)))


@api_command(
    "deleteUserData",
    params=[Param("id", ParamType.UUID, required=True, description="the ID of the Userdata"), *OWNER_PARAMS],
    roles=ALL_ROLES,
    description="Deletes a userdata",
    response=SUCCESS,
    since="4.18",
)
def delete_user_data(call: Call) -> SuccessResponse:
    row = userdata.get_user_data(call.session, call.get("id"), parameter="id")
    path = call.session.execute(select(Domain.path).where(Domain.id == row.domain_id)).scalar_one()
    check_owner(call.session, call.who, account_id=row.account_id, domain_path_stored=path)
    userdata.delete_user_data(call.session, row)
    audit(call, "DELETE.USER.DATA", f"Deleted user data {row.name}", resource_type=USER_DATA, resource_uuid=row.uuid)
    return SuccessResponse()


@api_command(
    "getVirtualMachineUserData",
    params=[Param("virtualmachineid", ParamType.UUID, required=True, description="The ID of the virtual machine")],
    roles=ALL_ROLES,
    description="Returns user data associated with the VM",
    response=VM_USER_DATA,
    since="4.4",
)
def get_virtual_machine_user_data(call: Call) -> ObjectResponse:
    instance = get_instance(call.session, call.get("virtualmachineid"), parameter="virtualmachineid")
    path = call.session.execute(select(Domain.path).where(Domain.id == instance.domain_id)).scalar_one()
    check_owner(call.session, call.who, account_id=instance.account_id, domain_path_stored=path)
    content = call.session.scalar(select(InstanceUserData.content)
                                  .where(InstanceUserData.instance_id == instance.id))
    fields: dict[str, Any] = {"virtualmachineid": instance.uuid}
    if content:
        fields["userdata"] = content
    return ObjectResponse("virtualmachineuserdata", fields)
