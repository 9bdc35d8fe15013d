"""Resource tags: key/value pairs users put on their instances, volumes, templates, networks and projects
(CloudStack's `resource_tags`). A tag belongs to the owner of the resource it is on; `resource_type` is
CloudStack's ResourceObjectType name (`UserVm`, `Volume`, `Template`, `Network`, `Project`)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.db.base import Base, UtcDateTime, UuidMixin, utcnow


class ResourceTag(UuidMixin, Base):
    __tablename__ = "resource_tag"
    __table_args__ = (
        UniqueConstraint("resource_type", "resource_id", "key"),
        Index("ix_resource_tag_key_value", "key", "value"),
    )

    key: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(String(255))
    resource_type: Mapped[str] = mapped_column(String(32))
    resource_id: Mapped[int] = mapped_column(Integer)
    resource_uuid: Mapped[str] = mapped_column(String(40))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id"), index=True)
    customer: Mapped[str | None] = mapped_column(String(255), default=None)
    created: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
