"""The file block: uploads, downloads with ranges, avatars and order documents, stored on
local disk, FastDFS or S3 (`storage.backend`)."""

from __future__ import annotations

from tessera.blocks.file import service
from tessera.blocks.file.controller import router
from tessera.blocks.file.events import FILE_DELETED, FileDeleted
from tessera.lib.runtime import Block, Runtime
from tessera.lib.storage import open_storage
from tessera.lib.tasks import Event

DELETE_HANDLER = "file.delete_bytes"


async def _start(runtime: Runtime) -> None:
    if runtime.storage is None:
        runtime.storage = await open_storage(
            runtime.settings.storage, var_dir=runtime.settings.var_dir
        )
    if not runtime.events.is_subscribed(DELETE_HANDLER):

        async def delete_bytes(event: Event[FileDeleted]) -> None:
            await service.delete_bytes(runtime=runtime, event=event)

        runtime.events.subscribe(FILE_DELETED, DELETE_HANDLER, delete_bytes)


async def _stop(runtime: Runtime) -> None:
    storage, runtime.storage = runtime.storage, None
    if storage is not None:
        await storage.aclose()


block = Block(
    name="file",
    router=router,
    # user: principals and the avatar URL; order: who may see an order's documents.
    depends_on=("user", "order"),
    on_startup=(_start,),
    on_shutdown=(_stop,),
    description="File uploads and downloads on local disk, FastDFS or S3",
    # These endpoints stream multipart bodies and enforce storage.max_*_bytes themselves.
    upload_paths=(
        r"/api/v1/files",
        r"/api/v1/users/me/avatar",
        r"/api/v1/orders/[0-9]+/documents",
    ),
)
