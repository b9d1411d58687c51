"""The orphan sweep behind `tessera files sweep`: delete stored bytes that no row owns.

Two sources: intents a crash left behind (every backend), and, where the backend can list
what it holds (`lib.storage.listable`: local disk and S3, not FastDFS), keys that no row or
intent knows plus the partial writes of interrupted saves. Only leftovers older than the
grace period are touched, so uploads in flight are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tessera.blocks.file import dao
from tessera.blocks.file.service.common import log
from tessera.blocks.file.service.ingest import forget_intent
from tessera.lib.db import utcnow
from tessera.lib.runtime import Runtime
from tessera.lib.storage import Storage, StorageError, StorageNotFound, get_storage, listable

# Listed keys checked against the database per query.
SWEEP_BATCH = 500


@dataclass(frozen=True)
class SweptItem:
    """One leftover found: `key` is None for an intent of a backend that names files only
    once they are complete (FastDFS); `removed` is False in a dry run or if already gone."""

    backend: str
    key: str | None
    reason: str
    removed: bool
    # The storage could not confirm the delete: the intent stays for the next sweep.
    kept: bool = False


async def sweep_orphans(
    *, runtime: Runtime, grace_seconds: int, dry_run: bool = False
) -> list[SweptItem]:
    """Delete bytes that no row owns: uploads a crash interrupted (their intents) and, where
    the backend can list its keys, keys unknown to the database. Only what is older than
    `grace_seconds` is touched."""
    storage = get_storage(runtime)
    cutoff = utcnow() - timedelta(seconds=grace_seconds)
    swept = await _sweep_intents(runtime, storage, cutoff, dry_run)
    swept.extend(await _sweep_listing(runtime, storage, cutoff, dry_run))
    log.info("files_swept", count=len(swept), dry_run=dry_run)
    return swept


async def _sweep_intents(
    runtime: Runtime, storage: Storage, cutoff: datetime, dry_run: bool
) -> list[SweptItem]:
    async with runtime.db.read() as session:
        intents = await dao.stale_intents(session, cutoff)
    swept: list[SweptItem] = []
    for intent in intents:
        if intent.storage_backend != storage.backend:
            continue
        removed = False
        reason = (
            "unfinished upload or deleted file"
            if intent.storage_key
            else ("unfinished upload (key unknown)")
        )
        if intent.storage_key is not None:
            # A row for the key means the upload did finish (its intent was left by a bug
            # or a manual edit): keep the bytes, drop only the intent.
            async with runtime.db.read() as session:
                in_use = await dao.has_file_with_key(session, storage.backend, intent.storage_key)
            if not in_use and not dry_run:
                try:
                    removed = await _delete_quietly(storage, intent.storage_key)
                except StorageError as exc:
                    # Not confirmed: the intent stays, the next sweep tries again.
                    log.warning("sweep_delete_failed", key=intent.storage_key, error=str(exc))
                    swept.append(
                        SweptItem(
                            storage.backend,
                            intent.storage_key,
                            f"{reason}: {exc.code}",
                            removed=False,
                            kept=True,
                        )
                    )
                    continue
        if not dry_run:
            await forget_intent(runtime, intent.id)
        swept.append(SweptItem(storage.backend, intent.storage_key, reason, removed))
    return swept


async def _sweep_listing(
    runtime: Runtime, storage: Storage, cutoff: datetime, dry_run: bool
) -> list[SweptItem]:
    """Keys the backend lists that no row or intent knows. A backend that cannot list
    (FastDFS) offers nothing here: only its intents are swept."""
    listing = listable(storage)
    if listing is None:
        return []
    swept: list[SweptItem] = []
    unowned: list[str] = []
    async for item in listing.list_keys(older_than=cutoff):
        if item.partial:
            removed = False if dry_run else await listing.discard_partial(item)
            swept.append(SweptItem(storage.backend, item.key, "partial write", removed))
            continue
        unowned.append(item.key)
        if len(unowned) >= SWEEP_BATCH:
            swept.extend(await _sweep_unowned(runtime, storage, unowned, dry_run))
            unowned = []
    swept.extend(await _sweep_unowned(runtime, storage, unowned, dry_run))
    return swept


async def _sweep_unowned(
    runtime: Runtime, storage: Storage, keys: list[str], dry_run: bool
) -> list[SweptItem]:
    if not keys:
        return []
    async with runtime.db.read() as session:
        known = await dao.existing_keys(session, storage.backend, keys)
    swept: list[SweptItem] = []
    for key in keys:
        if key in known:
            continue
        removed = False if dry_run else await _delete_quietly(storage, key)
        swept.append(SweptItem(storage.backend, key, "no row", removed))
    return swept


async def _delete_quietly(storage: Storage, key: str) -> bool:
    try:
        await storage.delete(key)
    except StorageNotFound:
        return False
    return True
