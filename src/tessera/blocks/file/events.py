"""Events the file block publishes (through the outbox, after commit).

`file.deleted` is consumed by the block itself: the worker removes the bytes from the storage
backend once the row is gone, retrying while the backend is unavailable.
"""

from __future__ import annotations

from tessera.lib.tasks import EventPayload, Topic


class FileDeleted(EventPayload):
    file_id: str
    storage_key: str
    backend: str


FILE_DELETED = Topic(
    "file.deleted", FileDeleted, description="A file row was deleted; its bytes are to be removed"
)
