"""Use cases of the file block, one module per concern; this package re-exports every public
use case and type, so callers keep writing `from tessera.blocks.file import service`.

- `files`: upload, view, list, download and delete plain files; the outbox handler that
  removes a deleted file's bytes.
- `documents`: files attached to an order, visible to whoever may see the order.
- `avatars`: a user's picture in two re-encoded sizes.
- `sweep`: the orphan sweep (`tessera files sweep`).
- `generated`: files other blocks produce (exports, invoices), stored like uploads.
- `ingest`: how bytes come in: checked while streaming, stored behind a committed intent,
  deleted again when their row cannot be committed (the consistency rule is there).
- `common`: the types and helpers the others share.

Pure logic (names, sniffing, ranges, avatar rendering) lives in `blocks/file/utility.py`.
"""

from tessera.blocks.file.service.avatars import (
    AVATAR_SIZES,
    AVATAR_TYPES,
    open_avatar,
    remove_avatar,
    set_avatar,
)
from tessera.blocks.file.service.common import READ_ANY, Download, IncomingFile
from tessera.blocks.file.service.documents import list_order_documents, upload_order_document
from tessera.blocks.file.service.files import (
    delete_bytes,
    delete_file,
    get_file,
    list_files,
    open_file_content,
    upload_file,
)
from tessera.blocks.file.service.generated import (
    delete_generated_file,
    open_generated_file,
    store_generated_file,
)
from tessera.blocks.file.service.sweep import SweptItem, sweep_orphans

__all__ = [
    "AVATAR_SIZES",
    "AVATAR_TYPES",
    "READ_ANY",
    "Download",
    "IncomingFile",
    "SweptItem",
    "delete_bytes",
    "delete_file",
    "delete_generated_file",
    "get_file",
    "list_files",
    "list_order_documents",
    "open_avatar",
    "open_file_content",
    "open_generated_file",
    "remove_avatar",
    "set_avatar",
    "store_generated_file",
    "sweep_orphans",
    "upload_file",
    "upload_order_document",
]
