"""Events: who did what, visible to whom; alerts counted rather than repeated."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from switchboard.caller import Caller
from switchboard.db.models.events import Event, EventLevel
from switchboard.errors import InvalidParameter
from switchboard.infra import events
from switchboard.infra.common import Page

pytestmark = pytest.mark.database


def _stored(session: Session, uuid: str) -> Event:
    """The event row `record_event` wrote (it returns the new event's uuid)."""
    return session.execute(select(Event).where(Event.uuid == uuid)).scalar_one()


def test_event_carries_the_actor_names(session: Session, user: Caller) -> None:
    event = _stored(session, events.record_event(
        session, type="VM.CREATE", description="Created i-2-3-VM", actor=user, resource_type="VirtualMachine",
        resource_uuid="6ae77659-2f5f-492c-b616-6d78ef134dcb"))
    assert (event.username, event.account_name, event.domain_name, event.domain_uuid) == \
        ("alice", "alice", "ROOT", user.domain_uuid)
    assert (event.level, event.state) == ("INFO", "Completed")


def test_actor_ids_without_a_caller(session: Session, user: Caller) -> None:
    event = _stored(session, events.record_event(session, type="VM.STOP", description="stopped",
                                                 actor=events.ActorIds(account_id=user.account_id)))
    assert (event.account_name, event.username, event.domain_name) == ("alice", None, "ROOT")


def test_users_see_only_their_account_events(session: Session, admin: Caller, user: Caller) -> None:
    events.record_event(session, type="ZONE.CREATE", description="zone", actor=admin)
    events.record_event(session, type="VM.CREATE", description="vm", actor=user)
    events.record_event(session, type="EXTENSION.PATH", description="system", level=EventLevel.WARN)

    def types(caller: Caller, **kwargs: object) -> list[str]:
        found, _ = events.list_events(session, caller, Page(), **kwargs)  # type: ignore[arg-type]
        return [e.type for e in found]

    assert types(user) == ["VM.CREATE"]
    assert types(admin) == ["EXTENSION.PATH", "VM.CREATE", "ZONE.CREATE"]  # newest first
    assert types(admin, level="warn") == ["EXTENSION.PATH"]
    assert types(admin, type="ZONE.CREATE") == ["ZONE.CREATE"]
    tomorrow = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    assert types(admin, start=tomorrow) == []
    assert types(admin, end=tomorrow) == ["EXTENSION.PATH", "VM.CREATE", "ZONE.CREATE"]
    found, total = events.list_events(session, admin, Page(page=1, pagesize=1, keyword="zone"))
    assert total == 1 and found[0].type == "ZONE.CREATE"


def test_repeated_alert_is_counted_on_one_row(session: Session) -> None:
    first = events.record_alert(session, type=33, subject="Path for Proxmox not ready across management servers")
    again = events.record_alert(session, type=33, subject="Path for Proxmox not ready across management servers")
    other = events.record_alert(session, type=33, subject="Path for MaaS not ready across management servers")
    assert again.id == first.id and again.sent_count == 2 and other.id != first.id
    assert first.name == "ALERT.TYPE.EXTENSION.PATH.NOT.READY"
    found, total = events.list_alerts(session, Page(), type=33)
    assert total == 2 and {a.subject for a in found} == {first.subject, other.subject}


def test_archiving_and_deleting_stay_within_the_callers_scope(session: Session, admin: Caller, user: Caller) -> None:
    admins = events.record_event(session, type="ZONE.CREATE", description="zone", actor=admin)
    mine = events.record_event(session, type="VM.CREATE", description="vm", actor=user)
    other = events.record_event(session, type="VM.CREATE", description="vm2", actor=user)
    with pytest.raises(InvalidParameter) as raised:
        events.archive_events(session, user)
    assert raised.value.parameter == "ids"
    assert events.archive_events(session, user, uuids=[admins, mine]) == 1  # not the admin's
    assert [e.uuid for e in events.list_events(session, user, Page())[0]] == [other]
    assert events.archive_events(session, user, type="VM.CREATE", delete=True) == 2
    assert [e.uuid for e in events.list_events(session, admin, Page())[0]] == [admins]


def test_alerts_can_be_archived_by_type(session: Session) -> None:
    events.record_alert(session, type=33, subject="a")
    events.record_alert(session, type=7, subject="b")
    assert events.archive_alerts(session, type=33) == 1
    assert [a.type for a in events.list_alerts(session, Page())[0]] == [7]
    assert events.archive_alerts(session, type=7, delete=True) == 1
    assert events.list_alerts(session, Page())[1] == 0
