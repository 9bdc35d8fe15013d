"""Paging from the call, and the list envelope whose `count` is the total before paging."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from switchboard.api.call import Call
from switchboard.api.responses import ListResponse
from switchboard.infra.common import Page

__all__ = ["listing", "page_of"]

T = TypeVar("T")


def page_of(call: Call) -> Page:
    """The call's `page`, `pagesize` and `keyword`."""
    return Page(page=call.page, pagesize=call.pagesize, keyword=call.keyword)


def listing(object_name: str, items: Iterable[T], total: int, view: Callable[[T], dict[str, Any]]) -> ListResponse:
    """A list envelope whose `count` is the total before paging, as CloudStack reports it."""
    return ListResponse(object_name, [view(item) for item in items], count=total)
