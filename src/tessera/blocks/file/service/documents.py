"""Order documents: files attached to an order, uploaded and listed by whoever may see the
order. Who that is is the order block's rule (`get_order_for_viewer`), asked here and by
`files` for a document opened by id; this module is why the file block depends on order."""

from __future__ import annotations

from tessera.blocks.file import dao
from tessera.blocks.file.model.dto import FileOut
from tessera.blocks.file.service.common import IncomingFile, file_out
from tessera.blocks.file.service.ingest import commit_row, new_row, store
from tessera.blocks.order import service as order_service
from tessera.lib.errors import NotFound
from tessera.lib.pagination import Page, PageParams
from tessera.lib.runtime import Runtime
from tessera.lib.security import Principal


async def require_order(runtime: Runtime, principal: Principal, order_id: int) -> None:
    """Raise the order block's 404 unless `principal` may see the order."""
    await order_service.get_order_for_viewer(
        runtime=runtime, principal=principal, order_id=order_id
    )


async def may_view_order(runtime: Runtime, principal: Principal, order_id: int) -> bool:
    try:
        await require_order(runtime, principal, order_id)
    except NotFound:
        return False
    return True


async def upload_order_document(
    *, runtime: Runtime, principal: Principal, order_id: int, upload: IncomingFile, name: str
) -> FileOut:
    await require_order(runtime, principal, order_id)
    settings = runtime.settings.storage
    stored = await store(
        runtime,
        upload.chunks(),
        name=name,
        max_bytes=settings.max_upload_bytes,
        allowed=settings.allowed_types,
    )
    row = new_row(
        stored, owner_id=principal.id, name=name, purpose="order_document", order_id=order_id
    )
    return await commit_row(runtime, stored, row)


async def list_order_documents(
    *, runtime: Runtime, principal: Principal, order_id: int, paging: PageParams
) -> Page[FileOut]:
    """The order's documents, whoever uploaded them."""
    await require_order(runtime, principal, order_id)
    async with runtime.db.read() as session:
        rows, total = await dao.list_files(
            session,
            owner_id=None,
            purpose="order_document",
            order_id=order_id,
            offset=paging.offset,
            limit=paging.size,
        )
    return Page[FileOut].of([file_out(row) for row in rows], total, paging)
