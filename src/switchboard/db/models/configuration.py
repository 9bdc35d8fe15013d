"""Operator settings changed through the API (CloudStack's configuration), per scope."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.db.base import Base, UtcDateTime, utcnow


class ConfigurationValue(Base):
    """One value set for a setting at one scope: global (scope_id 0), a domain or an account (their ids).

    Only values an operator set are stored; everything else takes the setting's default."""

    __tablename__ = "configuration_value"
    __table_args__ = (UniqueConstraint("name", "scope", "scope_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255))
    scope: Mapped[str] = mapped_column(String(16))  # global | domain | account
    scope_id: Mapped[int] = mapped_column(Integer, default=0)
    value: Mapped[str] = mapped_column(String(4096))
    updated: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
