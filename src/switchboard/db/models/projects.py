"""Projects: a named group of accounts that owns resources together (CloudStack's `projects` and
`project_account`). Like CloudStack, every project has an account of its own (`project_account_id`)
that owns what is made in the project; `project_account` lists the member accounts and whether each is
the project's Admin or a Regular member."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.db.base import Base, TimestampMixin, UtcDateTime, UuidMixin, utcnow


class Project(UuidMixin, TimestampMixin, Base):
    __tablename__ = "project"

    name: Mapped[str] = mapped_column(String(255))
    display_text: Mapped[str] = mapped_column(String(255))
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id"), index=True)
    project_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="Active")


class ProjectMember(Base):
    __tablename__ = "project_account"
    __table_args__ = (UniqueConstraint("project_id", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="Regular")  # Admin or Regular
    created: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
