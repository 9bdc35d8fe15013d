"""Fields many CloudStack response objects share: the owner, the extension, and leaving out nulls. Each
helper has its field declarations beside it (see `switchboard.api.shapes`)."""

from __future__ import annotations

from typing import Any

from switchboard.api.shapes import Field, Shape, T
from switchboard.db.models.identity import Account, Domain
from switchboard.infra.extension_link import ExtensionRef

EXTENSION_FIELDS = (
    Field("extensionid", T.STRING, "The ID of the extension linked to this resource"),
    Field("extensionname", T.STRING, "The name of the extension linked to this resource"),
)


def extension_fields(refs: dict[int, ExtensionRef], extension_id: int | None) -> dict[str, Any]:
    ref = refs.get(extension_id) if extension_id is not None else None
    return {"extensionid": ref.uuid, "extensionname": ref.name} if ref else {}


OWNER_FIELDS = (
    Field("account", T.STRING, "the account owning the resource"),
    Field("accountid", T.STRING, "the ID of the account owning the resource"),
    Field("domainid", T.STRING, "the ID of the domain of the owning account"),
    Field("domain", T.STRING, "the name of the domain of the owning account"),
)


def owner_fields(account: Account, domain: Domain) -> dict[str, Any]:
    return {"account": account.name, "accountid": account.uuid, "domainid": domain.uuid, "domain": domain.name}


# What an object owned by an account or a project shows of its owner (CloudStack's populateOwner: a
# project's object shows `projectid` and `project` instead of `account`); see `infra.owned.OwnerNames`.
OWNED_FIELDS = (
    Field("account", T.STRING, "the account owning the resource"),
    Field("accountid", T.STRING, "the ID of the account owning the resource"),
    Field("projectid", T.STRING, "the project id of the resource"),
    Field("project", T.STRING, "the project name of the resource"),
    Field("domainid", T.STRING, "the ID of the domain of the owner"),
    Field("domain", T.STRING, "the name of the domain of the owner"),
    Field("domainpath", T.STRING, "path of the domain of the owner"),
)

# CloudStack's ResourceTagResponse (listTags, and the `tags` of tagged objects).
RESOURCE_TAG = Shape("tag", [
    Field("key", T.STRING, "tag key name"),
    Field("value", T.STRING, "tag value"),
    Field("resourcetype", T.STRING, "resource type"),
    Field("resourceid", T.STRING, "id of the resource"),
    *(field for field in OWNED_FIELDS if field.name != "accountid"),
    Field("customer", T.STRING, "customer associated with the tag"),
])
TAGS_FIELD = Field("tags", T.SET, "the list of resource tags associated with the resource", shape=RESOURCE_TAG)
HAS_ANNOTATIONS_FIELD = Field("hasannotations", T.BOOLEAN, "true if the entity/resource has annotations")


def without_none(fields: dict[str, Any]) -> dict[str, Any]:
    """CloudStack leaves null fields out of responses."""
    return {key: value for key, value in fields.items() if value is not None}
