"""OS types (CloudStack's guest OS list), seeded by the infrastructure migration."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from switchboard.db.models.infrastructure import GuestOs, GuestOsCategory
from switchboard.infra.common import Page, fetch_page, live_by_uuid, matches

__all__ = ["DEFAULT_OS_TYPE", "default_os_type", "get_os_type", "list_categories", "list_os_types"]

# What a template registered without `ostypeid` runs: CloudStack's catch-all OS type. Clients read a
# template's `ostypeid`/`ostypename` unconditionally (CloudStack's templates always have one).
DEFAULT_OS_TYPE = "Other (64-bit)"


def get_os_type(session: Session, uuid: str, *, parameter: str = "ostypeid") -> GuestOs:
    return live_by_uuid(session, GuestOs, uuid, parameter=parameter, label="OS type")


def default_os_type(session: Session) -> GuestOs | None:
    """The OS type templates get when none is given (None if an operator removed it)."""
    return session.execute(select(GuestOs).where(GuestOs.display_name == DEFAULT_OS_TYPE,
                                                 GuestOs.removed.is_(None))).scalars().first()


def list_os_types(
    session: Session, page: Page, *, uuid: str | None = None, description: str | None = None,
    category_uuid: str | None = None,
) -> tuple[Sequence[tuple[GuestOs, GuestOsCategory]], int]:
    """Live OS types with their category, ordered by id."""
    stmt = (
        select(GuestOs, GuestOsCategory)
        .join(GuestOsCategory, GuestOsCategory.id == GuestOs.category_id)
        .where(GuestOs.removed.is_(None))
        .order_by(GuestOs.id)
    )
    if uuid:
        stmt = stmt.where(GuestOs.uuid == uuid)
    if description:
        stmt = stmt.where(GuestOs.display_name == description)
    if category_uuid:
        stmt = stmt.where(GuestOsCategory.uuid == category_uuid)
    if page.keyword:
        stmt = stmt.where(matches(GuestOs.display_name, page.keyword))
    rows, total = fetch_page(session, stmt, page)
    return [(row[0], row[1]) for row in rows], total


def list_categories(session: Session) -> Sequence[GuestOsCategory]:
    return session.execute(select(GuestOsCategory).order_by(GuestOsCategory.id)).scalars().all()
