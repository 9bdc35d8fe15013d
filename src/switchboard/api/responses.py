"""What handlers return, and how each result becomes CloudStack's JSON envelope.

    {"<command lowercased>response": {...}}

Lists carry `count` and the object array (an empty list is `{}`), single objects sit under their object
name, async commands answer `{"jobid": ..., "id": ...}`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ListResponse:
    object_name: str
    items: list[dict[str, Any]]
    count: int | None = None  # total before paging; defaults to len(items)

    def body(self) -> dict[str, Any]:
        if not self.items:
            return {}
        return {"count": self.count if self.count is not None else len(self.items), self.object_name: self.items}


@dataclass
class ObjectResponse:
    object_name: str
    item: dict[str, Any]

    def body(self) -> dict[str, Any]:
        return {self.object_name: self.item}


@dataclass
class SuccessResponse:
    success: bool = True
    displaytext: str | None = None

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"success": self.success}
        if self.displaytext is not None:
            body["displaytext"] = self.displaytext
        return body


@dataclass
class RawResponse:
    """A body that is not wrapped in an object name (e.g. login, queryAsyncJobResult)."""

    fields: dict[str, Any]

    def body(self) -> dict[str, Any]:
        return self.fields


@dataclass
class AsyncJobRequest:
    """Returned by an async command's handler: the job to queue once the request's checks passed.

    `handler` names a job handler registered with the jobs service; `args` must be JSON-serialisable.
    `instance_type`/`instance_id` name the object the job works on (shown in job listings); `object_id`
    is echoed as `id` in the immediate response, as CloudStack's create-type async commands do.
    """

    handler: str
    args: dict[str, Any] = field(default_factory=dict)
    instance_type: str | None = None
    instance_id: str | None = None
    object_id: str | None = None


Result = ListResponse | ObjectResponse | SuccessResponse | RawResponse | AsyncJobRequest


def envelope(command: str, result: Result | dict[str, Any]) -> dict[str, Any]:
    if isinstance(result, AsyncJobRequest):
        raise TypeError("an async job request is answered with its job id, not enveloped")
    body = result if isinstance(result, dict) else result.body()
    return {f"{command.lower()}response": body}


def paginate(items: list[Any], *, page: int | None, pagesize: int | None) -> list[Any]:
    """CloudStack paging: `page` starts at 1; both or neither should be given."""
    if not pagesize or pagesize <= 0:
        return items
    start = ((page or 1) - 1) * pagesize
    return items[start : start + pagesize]
