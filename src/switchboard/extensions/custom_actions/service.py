"""Adding, updating, deleting and listing custom actions (protocol notes §3.3, §4.2, §8.5, §8.6).

Defaults and rules are CloudStack's: a new action is disabled, has a 3-second timeout, runs on
VirtualMachine, and Admin is always among its allowed roles; an update replaces the role mask exactly.
Non-admin viewers see only the actions whose role mask includes their role type. All functions take the
caller's session and leave the transaction to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from switchboard.db.base import utcnow
from switchboard.db.models.extensions import ExtensionCustomAction, ExtensionType
from switchboard.errors import Conflict, InvalidParameter
from switchboard.extensions import store as extension_store
from switchboard.extensions.custom_actions import store
from switchboard.extensions.custom_actions.parameters import parse_definitions
from switchboard.extensions.custom_actions.resources import VIRTUAL_MACHINE, Viewer, find_instance
from switchboard.extensions.custom_actions.store import ActionRecord
from switchboard.infra.common import Page, fetch_page, matches
from switchboard.roles import RoleType

__all__ = [
    "DEFAULT_TIMEOUT",
    "LIST_BY_RESOURCE_FAILED",
    "RESOURCE_TYPES",
    "ActionChanges",
    "ActionFilter",
    "NewAction",
    "add_action",
    "delete_action",
    "list_actions",
    "parse_resource_type",
    "role_mask",
    "update_action",
]

DEFAULT_TIMEOUT = 3  # seconds: what CloudStack's code uses (its API text says 5)
RESOURCE_TYPES = (VIRTUAL_MACHINE,)
LIST_BY_RESOURCE_FAILED = "Internal error listing custom actions with specified resource"
_NAME = re.compile(r"[a-zA-Z0-9 _-]+")
_MAX_TIMEOUT = 24 * 3600


def parse_resource_type(text: str, *, ignore_case: bool = True, parameter: str = "resourcetype") -> str:
    """The resource type's canonical name (only VirtualMachine exists, §4.3); InvalidParameter otherwise."""
    for name in RESOURCE_TYPES:
        if name == text or (ignore_case and name.lower() == text.strip().lower()):
            return name
    raise InvalidParameter(f"Invalid resource type specified: {text}; custom actions support "
                           f"{', '.join(RESOURCE_TYPES)} only", parameter=parameter)


def role_mask(names: Iterable[str], *, parameter: str = "allowedroletypes") -> int:
    """The role mask of CloudStack's case-sensitive role type names (Admin=1, ResourceAdmin=2,
    DomainAdmin=4, User=8); InvalidParameter naming the unknown one."""
    mask = 0
    for name in names:
        try:
            mask |= RoleType.from_wire(name.strip()).bit
        except ValueError as exc:
            raise InvalidParameter(str(exc), parameter=parameter) from None
    return mask


def _timeout(value: int | None) -> int | None:
    if value is not None and not 1 <= value <= _MAX_TIMEOUT:
        raise InvalidParameter(f"Invalid timeout: {value}; it must be between 1 and {_MAX_TIMEOUT} seconds",
                               parameter="timeout")
    return value


@dataclass(frozen=True, kw_only=True)
class NewAction:
    """addCustomAction's parameters (None: not given). `parameters`: the `parameters[i].*` groups."""

    extension_uuid: str
    name: str
    description: str | None = None
    resource_type: str | None = None
    allowed_roles: list[str] | None = None
    parameters: Sequence[Mapping[str, str]] | None = None
    success_message: str | None = None
    error_message: str | None = None
    timeout: int | None = None
    enabled: bool | None = None
    details: Mapping[str, str] | None = None


def add_action(session: Session, spec: NewAction) -> ExtensionCustomAction:
    """addCustomAction. Raises NotFound for an unknown extension, InvalidParameter for a bad name, resource
    type, role, parameter definition or timeout, Conflict for a name the extension already has."""
    extension = extension_store.get_extension(session, spec.extension_uuid, parameter="extensionid")
    name = spec.name.strip()
    if not _NAME.fullmatch(name):
        raise InvalidParameter(f"Invalid name: {spec.name}; a custom action's name may contain letters, digits, "
                               "spaces, '_' and '-' only", parameter="name")
    if spec.resource_type:
        resource_type: str | None = parse_resource_type(spec.resource_type)
    else:
        resource_type = VIRTUAL_MACHINE if extension.type == ExtensionType.ORCHESTRATOR.value else None
    definitions = parse_definitions(spec.parameters or [])
    duplicate = select(ExtensionCustomAction.id).where(
        ExtensionCustomAction.extension_id == extension.id, ExtensionCustomAction.name == name,
        ExtensionCustomAction.removed.is_(None))
    if session.execute(duplicate).first():
        raise Conflict("Action by name already exists")
    action = ExtensionCustomAction(
        extension_id=extension.id, name=name, description=spec.description, resource_type=resource_type,
        allowed_role_types=role_mask(spec.allowed_roles or []) | RoleType.ADMIN.bit,
        success_message=spec.success_message, error_message=spec.error_message,
        timeout=_timeout(spec.timeout) or DEFAULT_TIMEOUT, enabled=bool(spec.enabled),
    )
    session.add(action)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent add of the same name won
        raise Conflict("Action by name already exists") from exc
    store.set_definitions(session, action.id, definitions)
    if spec.details:
        store.replace_visible_details(session, action.id, spec.details)
    return action


@dataclass(frozen=True, kw_only=True)
class ActionChanges:
    """updateCustomAction's parameters (None: leave as is)."""

    description: str | None = None
    resource_type: str | None = None
    allowed_roles: list[str] | None = None
    enabled: bool | None = None
    parameters: Sequence[Mapping[str, str]] | None = None
    cleanup_parameters: bool = False
    success_message: str | None = None
    error_message: str | None = None
    timeout: int | None = None
    details: Mapping[str, str] | None = None
    cleanup_details: bool = False


def update_action(session: Session, action: ExtensionCustomAction, changes: ActionChanges) -> ExtensionCustomAction:
    """updateCustomAction. `allowed_roles` replaces the mask exactly (Admin is not added); `parameters`
    replaces the definitions and `details` the visible details, unless the matching cleanup flag removes
    them all. Raises InvalidParameter as add_action does; nothing changes then."""
    definitions = parse_definitions(changes.parameters) if changes.parameters is not None else None
    mask = role_mask(changes.allowed_roles) if changes.allowed_roles is not None else None
    resource_type = parse_resource_type(changes.resource_type) if changes.resource_type else None
    timeout = _timeout(changes.timeout)
    if changes.description is not None:
        action.description = changes.description
    if resource_type is not None:
        action.resource_type = resource_type
    if mask is not None:
        action.allowed_role_types = mask
    if changes.enabled is not None:
        action.enabled = changes.enabled
    if changes.success_message is not None:
        action.success_message = changes.success_message
    if changes.error_message is not None:
        action.error_message = changes.error_message
    if timeout is not None:
        action.timeout = timeout
    if changes.cleanup_parameters:
        store.set_definitions(session, action.id, [])
    elif definitions is not None:
        store.set_definitions(session, action.id, definitions)
    if changes.cleanup_details:
        store.replace_visible_details(session, action.id, {})
    elif changes.details is not None:
        store.replace_visible_details(session, action.id, changes.details)
    session.flush()
    return action


def delete_action(session: Session, action: ExtensionCustomAction) -> None:
    """deleteCustomAction: the action is marked removed (its name becomes free again)."""
    action.removed = utcnow()
    session.flush()


@dataclass(frozen=True, kw_only=True)
class ActionFilter:
    """listCustomActions' filters (None: not filtered). `resource_type` is matched case-sensitively, and
    also matches actions without a resource type. `enabled_only` is CloudStack's `enabled` quirk (§8.5)."""

    uuid: str | None = None
    name: str | None = None
    extension_uuid: str | None = None
    resource_type: str | None = None
    resource_uuid: str | None = None
    enabled_only: bool = False


def list_actions(
    session: Session, viewer: Viewer, filters: ActionFilter, page: Page
) -> tuple[list[ActionRecord], int]:
    """A page of live actions, newest first, and the total before paging.

    With `resource_uuid` and no extension, the extension is the one serving that instance (VM → host →
    cluster, or its template's before its first start); an instance the viewer may not see, or one without
    an extension, gives InvalidParameter(LIST_BY_RESOURCE_FAILED), as CloudStack answers."""
    stmt = select(ExtensionCustomAction).where(ExtensionCustomAction.removed.is_(None))
    if not viewer.is_admin:
        stmt = stmt.where(ExtensionCustomAction.allowed_role_types.op("&")(viewer.role.bit) != 0)
    if filters.uuid:
        stmt = stmt.where(ExtensionCustomAction.uuid == filters.uuid)
    if filters.name:
        stmt = stmt.where(ExtensionCustomAction.name == filters.name)
    if filters.extension_uuid:
        extension = extension_store.get_extension(session, filters.extension_uuid, parameter="extensionid")
        stmt = stmt.where(ExtensionCustomAction.extension_id == extension.id)
    if filters.resource_type is not None:
        resource_type = parse_resource_type(filters.resource_type, ignore_case=False)
        stmt = stmt.where(or_(ExtensionCustomAction.resource_type == resource_type,
                              ExtensionCustomAction.resource_type.is_(None)))
    if filters.resource_uuid and not filters.extension_uuid:
        found = find_instance(session, filters.resource_uuid, viewer)
        if found is None or found.extension_id is None:
            raise InvalidParameter(LIST_BY_RESOURCE_FAILED, parameter="resourceid")
        stmt = stmt.where(ExtensionCustomAction.extension_id == found.extension_id)
    if filters.enabled_only:
        stmt = stmt.where(ExtensionCustomAction.enabled.is_(True))
    if page.keyword:
        stmt = stmt.where(matches(ExtensionCustomAction.name, page.keyword))
    rows, total = fetch_page(session, stmt.order_by(ExtensionCustomAction.id.desc()), page)
    return store.load_records(session, [row[0] for row in rows]), total
