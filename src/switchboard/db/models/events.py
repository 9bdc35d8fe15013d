"""Events (the audit trail every area writes) and alerts (conditions an operator should look at).

Who caused an event is stored both as ids (for filtering by account) and as the names shown in listings,
so listing events needs no join and keeps showing what was true when the event happened.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.db.base import Base, UtcDateTime, UuidMixin, utcnow


class EventLevel(enum.StrEnum):
    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"


class EventState(enum.StrEnum):
    CREATED = "Created"
    SCHEDULED = "Scheduled"
    STARTED = "Started"
    COMPLETED = "Completed"


class Event(UuidMixin, Base):
    __tablename__ = "event"
    __table_args__ = (Index("ix_event_account_created", "account_id", "created"),)

    type: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(32), default=EventState.COMPLETED.value)
    level: Mapped[str] = mapped_column(String(16), default=EventLevel.INFO.value)
    description: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(Integer, default=None)
    account_id: Mapped[int | None] = mapped_column(Integer, default=None)
    domain_id: Mapped[int | None] = mapped_column(Integer, default=None)
    username: Mapped[str | None] = mapped_column(String(255), default=None)
    account_name: Mapped[str | None] = mapped_column(String(255), default=None)
    domain_uuid: Mapped[str | None] = mapped_column(String(36), default=None)
    domain_name: Mapped[str | None] = mapped_column(String(255), default=None)
    resource_type: Mapped[str | None] = mapped_column(String(64), default=None)
    resource_uuid: Mapped[str | None] = mapped_column(String(36), default=None)
    start_id: Mapped[int | None] = mapped_column(Integer, default=None)
    display: Mapped[bool] = mapped_column(Boolean, default=True)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)


class Alert(UuidMixin, Base):
    """An operator alert. `type` is CloudStack's numeric alert type (e.g. 33 extension path not ready)."""

    __tablename__ = "alert"

    type: Mapped[int] = mapped_column(Integer, index=True)
    name: Mapped[str | None] = mapped_column(String(255), default=None)
    subject: Mapped[str] = mapped_column(String(999))
    content: Mapped[str | None] = mapped_column(Text, default=None)
    zone_id: Mapped[int | None] = mapped_column(Integer, default=None)
    pod_id: Mapped[int | None] = mapped_column(Integer, default=None)
    cluster_id: Mapped[int | None] = mapped_column(Integer, default=None)
    sent_count: Mapped[int] = mapped_column(Integer, default=1)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    last_sent: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
