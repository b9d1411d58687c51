"""Attachments other blocks add to outgoing mail, without the sender knowing them.

A block registers an `AttachmentSource` at start-up (`add_attachment_source`); whoever sends
mail (the notify block) asks `attachments_for(runtime, template, params)` just before sending.
The report block uses it to attach the invoice to the order-paid mail. A source that raises
fails the send, so the worker retries it later: a mail never goes out missing its attachment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from tessera.lib.mail.base import Attachment
from tessera.lib.runtime import Slot

if TYPE_CHECKING:
    from tessera.lib.runtime import Runtime


class AttachmentSource(Protocol):
    async def __call__(self, template: str, params: Mapping[str, Any]) -> Sequence[Attachment]:
        """The attachments for a mail of `template` rendered with `params` (often none)."""
        ...


ATTACHMENT_SOURCES = Slot[list[AttachmentSource]]("mail.attachment_sources", owner="notify")


def add_attachment_source(runtime: Runtime, source: AttachmentSource) -> None:
    sources = runtime.slots.find(ATTACHMENT_SOURCES)
    if sources is None:
        sources = []
        runtime.slots.put(ATTACHMENT_SOURCES, sources)
    if source not in sources:
        sources.append(source)


async def attachments_for(
    runtime: Runtime, template: str, params: Mapping[str, Any]
) -> tuple[Attachment, ...]:
    found: list[Attachment] = []
    for source in runtime.slots.find(ATTACHMENT_SOURCES) or []:
        found.extend(await source(template, params))
    return tuple(found)
