"""notify: the requests for SMS codes and reset links are the user block's topics now

Rows of the outbox not yet delivered (pending, or dead and waiting for `tessera events
retry`) move from `notify.sms_code_requested` / `notify.password_reset_requested` to
`user.sms_code_requested` / `user.password_reset_requested`, so an upgrade while requests
are queued loses none of them. The payloads did not change; the consuming handlers keep
their names, so their idempotency records still apply.

Revision ID: notify_0002
Revises: notify_0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "notify_0002"
down_revision: str | None = "notify_0001"
branch_labels: str | Sequence[str] | None = None
# The outbox table belongs to the tasks branch.
depends_on: str | Sequence[str] | None = "tasks_0001"

RENAMED = {
    "notify.sms_code_requested": "user.sms_code_requested",
    "notify.password_reset_requested": "user.password_reset_requested",
}

outbox_event = sa.table(
    "outbox_event",
    sa.column("topic", sa.String(64)),
    sa.column("status", sa.String(16)),
)


def _rename(pairs: dict[str, str]) -> None:
    for old, new in pairs.items():
        op.execute(
            outbox_event.update()
            .where(outbox_event.c.topic == old, outbox_event.c.status != "delivered")
            .values(topic=new)
        )


def upgrade() -> None:
    _rename(RENAMED)


def downgrade() -> None:
    _rename({new: old for old, new in RENAMED.items()})
