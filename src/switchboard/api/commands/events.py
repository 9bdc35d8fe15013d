"""Event and alert commands: listEvents (every role, scoped to what the caller may see), archiveEvents and
deleteEvents (the same scope), listAlerts, archiveAlerts, deleteAlerts (admins),
listEventTypes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import distinct, select

from switchboard.api.call import Call
from switchboard.api.paging import listing, page_of
from switchboard.api.params import Param, ParamType, format_date
from switchboard.api.registry import api_command
from switchboard.api.responses import ListResponse, SuccessResponse
from switchboard.api.shapes import SUCCESS, Field, Shape, T
from switchboard.db.models.events import Alert, Event
from switchboard.infra import events
from switchboard.infra.common import one_of
from switchboard.roles import ALL_ROLES

EVENT = Shape("event", [
    Field("id", T.STRING, "the ID of the event"),
    Field("username", T.STRING, "the name of the user who performed the action (can be different from the "
          "account if an admin is performing an action for a user, e.g. starting/stopping a user's virtual machine)"),
    Field("type", T.STRING, "the type of the event (see event types)"),
    Field("level", T.STRING, "the event level (INFO, WARN, ERROR)"),
    Field("description", T.STRING, "a brief description of the event"),
    Field("account", T.STRING, "the account name for the account that owns the object being acted on in the "
          "event (e.g. the owner of the virtual machine, ip address, or security group)"),
    Field("domainid", T.STRING, "the id of the account's domain"),
    Field("domain", T.STRING, "the name of the account's domain"),
    Field("created", T.DATE, "the date the event was created"),
    Field("state", T.STRING, "the state of the event"),
    Field("resourceid", T.STRING, "the id of the resource"),
    Field("resourcetype", T.STRING, "the type of the resource"),
    Field("archived", T.BOOLEAN, "whether the event has been archived or not"),
])
EVENT_TYPE = Shape("eventtype", [Field("name", T.STRING, "Event Type")])


def event_view(event: Event) -> dict[str, Any]:
    """CloudStack's EventResponse."""
    fields: dict[str, Any] = {
        "id": event.uuid,
        "username": event.username,
        "type": event.type,
        "level": event.level,
        "description": event.description,
        "account": event.account_name,
        "domainid": event.domain_uuid,
        "domain": event.domain_name,
        "created": format_date(event.created),
        "state": event.state,
        "resourceid": event.resource_uuid,
        "resourcetype": event.resource_type,
        "archived": event.archived,
    }
    return {key: value for key, value in fields.items() if value is not None}


@api_command(
    "listEvents",
    params=[
        Param("id", ParamType.UUID, description="the ID of the event"),
        Param("type", description="the event type (see event types)"),
        Param("level", description="the event level (INFO, WARN, ERROR)"),
        Param("startdate", ParamType.DATE, description="the start date range of the list you want to retrieve "
              "(use format \"yyyy-MM-dd\" or the new format \"yyyy-MM-dd HH:mm:ss\")"),
        Param("enddate", ParamType.DATE, description="the end date range of the list you want to retrieve"),
        Param("resourceid", ParamType.UUID, description="the ID of the resource associated with the event"),
        Param("resourcetype", description="the type of the resource associated with the event"),
        Param("duration", ParamType.INTEGER, description="the duration of the event (ignored)"),
        Param("entrytime", ParamType.INTEGER, description="the time the event was entered (ignored)"),
        Param("account", description="list resources by account (ignored)"),
        Param("domainid", ParamType.UUID, description="list only resources belonging to the domain (ignored)"),
        Param("isrecursive", ParamType.BOOLEAN, description="lists all resources down the domain tree (ignored)"),
    ],
    roles=ALL_ROLES,
    description="A command to list events.",
    response=EVENT,
    is_list=True,
)
def list_events(call: Call) -> ListResponse:
    level = call.get("level")
    if level is not None:
        level = one_of(level, ("INFO", "WARN", "ERROR"), parameter="level")
    found, total = events.list_events(
        call.session, call.who, page_of(call), uuid=call.get("id"), type=call.get("type"), level=level,
        start=call.get("startdate"), end=call.get("enddate"), resource_uuid=call.get("resourceid"),
    )
    return listing("event", found, total, event_view)


@api_command(
    "listEventTypes",
    roles=ALL_ROLES,
    description="List Event Types (those recorded so far)",
    response=EVENT_TYPE,
)
def list_event_types(call: Call) -> ListResponse:
    names = call.session.execute(select(distinct(Event.type)).order_by(Event.type)).scalars().all()
    return ListResponse("eventtype", [{"name": name} for name in names])


ALERT = Shape("alert", [
    Field("id", T.STRING, "the id of the alert"),
    Field("type", T.SHORT, "the type of the alert (CloudStack's alert type numbers)"),
    Field("name", T.STRING, "the name of the alert"),
    Field("description", T.STRING, "description of the alert"),
    Field("sent", T.DATE, "the date and time the alert was sent"),
])


def alert_view(alert: Alert) -> dict[str, Any]:
    """CloudStack's AlertResponse."""
    fields: dict[str, Any] = {
        "id": alert.uuid,
        "type": alert.type,
        "name": alert.name,
        "description": alert.subject,
        "sent": format_date(alert.last_sent),
    }
    return {key: value for key, value in fields.items() if value is not None}


@api_command(
    "listAlerts",
    params=[
        Param("id", ParamType.UUID, description="the ID of the alert"),
        Param("type", ParamType.INTEGER, description="list by alert type"),
        Param("name", description="list by alert name"),
    ],
    description="Lists all alerts.",
    response=ALERT,
    is_list=True,
)
def list_alerts(call: Call) -> ListResponse:
    found, total = events.list_alerts(call.session, page_of(call), uuid=call.get("id"), type=call.get("type"),
                                      name=call.get("name"))
    return listing("alert", found, total, alert_view)


_SELECTION = [
    Param("ids", ParamType.LIST, item_type=ParamType.UUID, description="the IDs of the events", entity="event"),
    Param("type", description="the type of the events"),
    Param("startdate", ParamType.DATE, description="start date range (inclusive)"),
    Param("enddate", ParamType.DATE, description="end date range (inclusive)"),
]


def _events(call: Call, *, delete: bool) -> SuccessResponse:
    events.archive_events(call.session, call.who, uuids=call.get("ids"), type=call.get("type"),
                          start=call.get("startdate"), end=call.get("enddate"), delete=delete)
    return SuccessResponse()


@api_command("archiveEvents", params=_SELECTION, roles=ALL_ROLES, description="Archive one or more events.",
             response=SUCCESS)
def archive_events(call: Call) -> SuccessResponse:
    return _events(call, delete=False)


@api_command("deleteEvents", params=_SELECTION, roles=ALL_ROLES, description="Delete one or more events.",
             response=SUCCESS)
def delete_events(call: Call) -> SuccessResponse:
    return _events(call, delete=True)


_ALERT_SELECTION = [
    Param("ids", ParamType.LIST, item_type=ParamType.UUID, description="the IDs of the alerts", entity="alert"),
    Param("type", ParamType.INTEGER, description="archive/delete by alert type"),
    Param("startdate", ParamType.DATE, description="start date range (inclusive)"),
    Param("enddate", ParamType.DATE, description="end date range (inclusive)"),
]


def _alerts(call: Call, *, delete: bool) -> SuccessResponse:
    events.archive_alerts(call.session, uuids=call.get("ids"), type=call.get("type"), start=call.get("startdate"),
                          end=call.get("enddate"), delete=delete)
    return SuccessResponse()


@api_command("archiveAlerts", params=_ALERT_SELECTION, description="Archive one or more alerts.", response=SUCCESS)
def archive_alerts(call: Call) -> SuccessResponse:
    return _alerts(call, delete=False)


@api_command("deleteAlerts", params=_ALERT_SELECTION, description="Delete one or more alerts.", response=SUCCESS)
def delete_alerts(call: Call) -> SuccessResponse:
    return _alerts(call, delete=True)
