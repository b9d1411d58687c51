"""Use cases of the user block for the report block: users for an export, with the filters of
`GET /users`, one keyset page of plain tuples at a time (roles joined per page). Callers (the
report block) check `user:manage`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from tessera.blocks.user import dao
from tessera.lib.runtime import Runtime


async def count_users(
    *, runtime: Runtime, q: str | None, role: str | None, is_active: bool | None
) -> int:
    async with runtime.db.read() as session:
        return await dao.count_users(session, dao.user_filters(q, role, is_active))


async def user_rows(
    *,
    runtime: Runtime,
    q: str | None,
    role: str | None,
    is_active: bool | None,
    batch_rows: int,
) -> AsyncIterator[Sequence[Sequence[object]]]:
    """Pages of (id, username, email, phone, display_name, roles, is_active, email_verified,
    created_at), by id."""
    conditions = dao.user_filters(q, role, is_active)
    last_id = 0
    while True:
        async with runtime.db.read() as session:
            rows = await dao.user_page(session, conditions, after_id=last_id, limit=batch_rows)
        if not rows:
            return
        yield rows
        if len(rows) < batch_rows:
            return
        last_id = int(str(rows[-1][0]))
