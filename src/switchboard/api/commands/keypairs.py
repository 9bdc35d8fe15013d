"""SSH key pair commands: createSSHKeyPair, registerSSHKeyPair, listSSHKeyPairs, deleteSSHKeyPair.

Key pairs belong to an account (the caller's, or one named with account+domainid, or a project's); the
private key of a created pair appears in its create response only.
"""

from __future__ import annotations

from typing import Any

from switchboard.api.audit import audit
from switchboard.api.call import Call
from switchboard.api.owners import OWNER_PARAMS, list_owner, owner_of_call
from switchboard.api.paging import listing, page_of
from switchboard.api.params import Param, ParamType
from switchboard.api.registry import api_command
from switchboard.api.responses import ListResponse, ObjectResponse, SuccessResponse
from switchboard.api.shapes import SUCCESS, Field, Shape, T
from switchboard.api.views.fields import OWNED_FIELDS
from switchboard.db.models.guest_data import SshKeyPair
from switchboard.infra import keypairs
from switchboard.infra.owned import OwnerNames, owner_names
from switchboard.roles import ALL_ROLES

KEYPAIR = "SSHKeyPair"

SSH_KEY_PAIR = Shape("sshkeypair", [
    Field("id", T.STRING, "ID of the ssh keypair"),
    Field("name", T.STRING, "Name of the keypair"),
    *(field for field in OWNED_FIELDS if field.name not in ("accountid", "domainpath")),
    Field("fingerprint", T.STRING, "Fingerprint of the public key"),
])
# createSSHKeyPair and registerSSHKeyPair answer it as `keypair`; a created pair adds its private key.
KEY_PAIR = Shape("keypair", [*SSH_KEY_PAIR.fields, Field("privatekey", T.STRING, "Private key")])


def keypair_view(pair: SshKeyPair, owner: OwnerNames | None) -> dict[str, Any]:
    """CloudStack's SSHKeyPairResponse."""
    fields: dict[str, Any] = {"id": pair.uuid, "name": pair.name}
    if owner is not None:
        fields.update(owner.fields())
    fields["fingerprint"] = pair.fingerprint
    return fields


def _one(call: Call, pair: SshKeyPair) -> dict[str, Any]:
    return keypair_view(pair, owner_names(call.session, [pair.account_id]).get(pair.account_id))


@api_command(
    "createSSHKeyPair",
    params=[Param("name", required=True, description="Name of the keypair"), *OWNER_PARAMS],
    roles=ALL_ROLES,
    description="Create a new keypair and returns the private key",
    response=KEY_PAIR,
)
def create_ssh_keypair(call: Call) -> ObjectResponse:
    owner = owner_of_call(call)
    pair, private_key = keypairs.create_keypair(call.session, owner, call.get("name"))
    audit(call, "REGISTER.SSH.KEYPAIR", f"Created SSH key pair {pair.name}", resource_type=KEYPAIR,
          resource_uuid=pair.uuid)
    return ObjectResponse("keypair", {**_one(call, pair), "privatekey": private_key})


@api_command(
    "registerSSHKeyPair",
    params=[
        Param("name", required=True, description="Name of the keypair"),
        Param("publickey", required=True, description="Public key material of the keypair", length=5120),
        *OWNER_PARAMS,
    ],
    roles=ALL_ROLES,
    description="Register a public key in a keypair under a certain name",
    response=KEY_PAIR,
)
def register_ssh_keypair(call: Call) -> ObjectResponse:
    owner = owner_of_call(call)
    pair = keypairs.register_keypair(call.session, owner, call.get("name"), call.get("publickey"))
    audit(call, "REGISTER.SSH.KEYPAIR", f"Registered SSH key pair {pair.name}", resource_type=KEYPAIR,
          resource_uuid=pair.uuid)
    return ObjectResponse("keypair", _one(call, pair))


@api_command(
    "listSSHKeyPairs",
    params=[
        Param("id", ParamType.UUID, description="the ID of the ssh keypair"),
        Param("name", description="A key pair name to look for"),
        Param("fingerprint", description="A public key fingerprint to look for"),
        *OWNER_PARAMS,
        Param("isrecursive", ParamType.BOOLEAN, description="list resources in the domain's subdomains too"),
    ],
    roles=ALL_ROLES,
    description="List registered keypairs",
    response=SSH_KEY_PAIR,
    is_list=True,
)
def list_ssh_keypairs(call: Call) -> ListResponse:
    filters = keypairs.KeyPairFilter(uuid=call.get("id"), name=call.get("name"), fingerprint=call.get("fingerprint"),
                                     account_id=list_owner(call), list_all=bool(call.get("listall")))
    found, total = keypairs.list_keypairs(call.session, call.who, page_of(call), filters)
    owners = owner_names(call.session, [pair.account_id for pair in found])
    return listing("sshkeypair", found, total, lambda pair: keypair_view(pair, owners.get(pair.account_id)))


@api_command(
    "deleteSSHKeyPair",
    params=[Param("name", required=True, description="Name of the keypair"), *OWNER_PARAMS],
    roles=ALL_ROLES,
    description="Deletes a keypair by name",
    response=SUCCESS,
)
def delete_ssh_keypair(call: Call) -> SuccessResponse:
    owner = owner_of_call(call)
    names = owner_names(call.session, [owner.account_id])[owner.account_id]
    keypairs.delete_keypair(call.session, owner, call.get("name"), account_name=names.account,
                            domain_uuid=names.domain_uuid)
    audit(call, "DELETE.SSH.KEYPAIR", f"Deleted SSH key pair {call.get('name')}", resource_type=KEYPAIR,
          resource_uuid=names.account_uuid)
    return SuccessResponse()
