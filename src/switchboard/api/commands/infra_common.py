"""Helpers the infrastructure command modules share: paging from the call, list envelopes, the
extension linker, and the owner fields CloudStack puts on owned objects."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from switchboard.api.call import Call
from switchboard.api.params import MapValue
from switchboard.api.responses import ListResponse
from switchboard.db.models.identity import Account, Domain
from switchboard.infra.common import Page
from switchboard.infra.events import record_event
from switchboard.infra.extension_link import ExtensionLinker, ExtensionRef, linker_from
from switchboard.infra.usage import NO_CHECKS, USAGE_SERVICE, UsageChecks

T = TypeVar("T")


def page_of(call: Call) -> Page:
    return Page(page=call.page, pagesize=call.pagesize, keyword=call.keyword)


def listing(object_name: str, items: Iterable[T], total: int, view: Callable[[T], dict[str, Any]]) -> ListResponse:
    """A list envelope whose `count` is the total before paging, as CloudStack reports it."""
    return ListResponse(object_name, [view(item) for item in items], count=total)


def linker(call: Call) -> ExtensionLinker:
    return linker_from(call.services.registry)


def usage_checks(call: Call) -> UsageChecks:
    checks = call.services.registry.get(USAGE_SERVICE)
    return checks if isinstance(checks, UsageChecks) else NO_CHECKS


def extension_of(call: Call, *, purpose: str) -> ExtensionRef | None:
    """The extension named by `extensionid`, checked by the extensions area, or None when not given."""
    uuid = call.get("extensionid")
    if uuid is None:
        return None
    return linker(call).resolve(call.session, uuid, parameter="extensionid", purpose=purpose)


def extension_fields(refs: dict[int, ExtensionRef], extension_id: int | None) -> dict[str, Any]:
    ref = refs.get(extension_id) if extension_id is not None else None
    return {"extensionid": ref.uuid, "extensionname": ref.name} if ref else {}


def map_param(call: Call, name: str) -> dict[str, str] | None:
    """A map parameter flattened (all indices merged), or None when not given."""
    value = call.get(name)
    return value.flat() if isinstance(value, MapValue) else None


def owner_fields(account: Account, domain: Domain) -> dict[str, Any]:
    return {"account": account.name, "accountid": account.uuid, "domainid": domain.uuid, "domain": domain.name}


def without_none(fields: dict[str, Any]) -> dict[str, Any]:
    """CloudStack leaves null fields out of responses."""
    return {key: value for key, value in fields.items() if value is not None}


def audit(call: Call, event_type: str, description: str, *, resource_type: str, resource_uuid: str) -> None:
    """Record a Completed INFO event for what the caller just did (committed with the request)."""
    record_event(call.session, type=event_type, description=description, actor=call.who,
                 resource_type=resource_type, resource_uuid=resource_uuid)
