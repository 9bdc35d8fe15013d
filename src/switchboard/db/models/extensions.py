"""Extensions tables: extensions and their details, their links to clusters, their custom actions, and the
entry-point checksums each management server publishes for the readiness check (protocol notes §1.7, §3.4).

* `extension` — `relative_path` is stored relative to the extensions root (§1.5); `path_ready` is the
  outcome of the last readiness decision. Names are unique among live (not removed) extensions.
* `extension_details` — key/value details; `display` false hides a detail from API responses
  (`orchestratorrequirespreparevm` is such a hidden detail).
* `extension_resource_map` — the registration of a cluster with an extension (`resource_type` "Cluster",
  `resource_id` the cluster's integer id) and when it happened. The cluster's own `extension_id` column is
  the copy infrastructure filters on; the resource map's details are the cluster's `External:` details
  (one store, shared with updateCluster and the payload builder), so there is no details table here.
* `extension_custom_action` (+ details) — operator-defined actions (issue 4). `allowed_role_types` is a role
  mask (Admin=1, ResourceAdmin=2, DomainAdmin=4, User=8); the parameter definitions are a hidden detail
  `parameters` holding a JSON list of `{name, type, validationformat, required, valueoptions?}`.
* `extension_server_checksum` — per management server and extension, the MD5 of that server's entry file
  (NULL: not valid there) and when it was computed.

Integrity with clusters and templates (`cluster.extension_id`, `template.extension_id`) is kept by the
service: an extension still referenced by either cannot be deleted.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.db.base import Base, TimestampMixin, UtcDateTime, UuidMixin, utcnow


class ExtensionType(enum.StrEnum):
    ORCHESTRATOR = "Orchestrator"


class ExtensionState(enum.StrEnum):
    ENABLED = "Enabled"
    DISABLED = "Disabled"


class Extension(UuidMixin, TimestampMixin, Base):
    __tablename__ = "extension"
    __table_args__ = (
        Index(
            "uq_extension_name_live", "name", unique=True,
            sqlite_where=text("removed IS NULL"), postgresql_where=text("removed IS NULL"),
        ),
    )

    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String(4096), default=None)
    type: Mapped[str] = mapped_column(String(32), default=ExtensionType.ORCHESTRATOR.value)
    relative_path: Mapped[str] = mapped_column(String(2048))
    is_user_defined: Mapped[bool] = mapped_column(Boolean, default=True)
    state: Mapped[str] = mapped_column(String(16), default=ExtensionState.ENABLED.value)
    path_ready: Mapped[bool] = mapped_column(Boolean, default=False)


class ExtensionDetail(Base):
    __tablename__ = "extension_details"
    __table_args__ = (UniqueConstraint("extension_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    extension_id: Mapped[int] = mapped_column(ForeignKey("extension.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(Text)
    display: Mapped[bool] = mapped_column(Boolean, default=True)


class ExtensionResourceMap(Base):
    """One resource (a cluster) registered with one extension; a resource has at most one extension."""

    __tablename__ = "extension_resource_map"
    __table_args__ = (UniqueConstraint("resource_type", "resource_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    extension_id: Mapped[int] = mapped_column(ForeignKey("extension.id", ondelete="CASCADE"), index=True)
    resource_type: Mapped[str] = mapped_column(String(32))
    resource_id: Mapped[int] = mapped_column(Integer)
    created: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ExtensionCustomAction(UuidMixin, TimestampMixin, Base):
    __tablename__ = "extension_custom_action"
    __table_args__ = (
        Index(
            "uq_extension_custom_action_name_live", "extension_id", "name", unique=True,
            sqlite_where=text("removed IS NULL"), postgresql_where=text("removed IS NULL"),
        ),
    )

    extension_id: Mapped[int] = mapped_column(ForeignKey("extension.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String(4096), default=None)
    resource_type: Mapped[str | None] = mapped_column(String(32), default=None)
    allowed_role_types: Mapped[int] = mapped_column(Integer, default=1)  # role mask; Admin=1
    success_message: Mapped[str | None] = mapped_column(String(4096), default=None)
    error_message: Mapped[str | None] = mapped_column(String(4096), default=None)
    timeout: Mapped[int] = mapped_column(Integer, default=3)  # seconds
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)


class ExtensionCustomActionDetail(Base):
    __tablename__ = "extension_custom_action_details"
    __table_args__ = (UniqueConstraint("custom_action_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    custom_action_id: Mapped[int] = mapped_column(
        # The conventional name would pass PostgreSQL's 63-character limit.
        ForeignKey("extension_custom_action.id", ondelete="CASCADE", name="fk_extension_custom_action_details_action"),
        index=True,
    )
    name: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(Text)
    display: Mapped[bool] = mapped_column(Boolean, default=True)


class ExtensionServerChecksum(Base):
    """What one management server found at an extension's entry point at its last check."""

    __tablename__ = "extension_server_checksum"
    __table_args__ = (UniqueConstraint("server_id", "extension_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    server_id: Mapped[int] = mapped_column(ForeignKey("management_server.id", ondelete="CASCADE"), index=True)
    extension_id: Mapped[int] = mapped_column(ForeignKey("extension.id", ondelete="CASCADE"), index=True)
    checksum: Mapped[str | None] = mapped_column(String(64), default=None)  # MD5 hex; NULL: not valid there
    updated: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
