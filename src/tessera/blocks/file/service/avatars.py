"""Avatars: a user's picture, re-encoded with bounded memory (`tessera.lib.images`) into two
square PNGs that replace the previous pair in one transaction; the profile's `avatar_url` is
set through the user block's service. Read publicly, like any profile picture."""

from __future__ import annotations

from tessera.blocks.file import dao
from tessera.blocks.file.model.dto import AvatarOut
from tessera.blocks.file.service.common import Download, IncomingFile, delete_row, open_download
from tessera.blocks.file.service.ingest import Probe, Stored, discard, new_row, single_chunk, store
from tessera.blocks.user import service as user_service
from tessera.lib.errors import NotFound, ValidationFailed
from tessera.lib.images import render_squares_bounded
from tessera.lib.runtime import Runtime
from tessera.lib.security import Principal
from tessera.lib.storage import get_storage

AVATAR_TYPES = frozenset({"image/png", "image/jpeg", "image/webp"})
AVATAR_SIZES = (256, 64)


def _avatar_url(user_id: int, version: str) -> str:
    return f"/api/v1/users/{user_id}/avatar?v={version[:12]}"


async def set_avatar(*, runtime: Runtime, principal: Principal, upload: IncomingFile) -> AvatarOut:
    settings = runtime.settings.storage
    probe = Probe(upload.chunks(), max_bytes=settings.max_avatar_bytes, allowed=AVATAR_TYPES)
    data = await probe.read_all()
    # Bounded memory: a tiny upload can describe a 4096 x 4096 canvas (tessera.lib.images).
    rendered = await render_squares_bounded(
        data, AVATAR_SIZES, max_pixels=settings.max_avatar_pixels
    )
    stored: dict[int, Stored] = {}
    try:
        for size, png in rendered.items():
            stored[size] = await store(
                runtime,
                single_chunk(png),
                name=f"avatar-{size}.png",
                max_bytes=len(png),
                allowed=("image/png",),
            )
        rows = {
            size: new_row(
                item,
                owner_id=principal.id,
                name=f"avatar-{size}.png",
                purpose="avatar",
                variant=str(size),
            )
            for size, item in stored.items()
        }
        async with runtime.db.transaction() as uow:
            for old in await dao.avatar_files(uow.session, principal.id):
                await delete_row(uow, runtime, old)
            for row in rows.values():
                await dao.add_file(uow.session, row)
            for item in stored.values():
                await dao.delete_intent(uow.session, item.intent_id)
    except BaseException:
        for item in stored.values():
            await discard(runtime, item)
        raise
    url = _avatar_url(principal.id, rows[AVATAR_SIZES[0]].id)
    # After our commit: if this fails the old URL still works (it names the user, not a file).
    await user_service.set_avatar_url(runtime=runtime, user_id=principal.id, url=url)
    return AvatarOut(
        avatar_url=url,
        sizes={str(size): f"{url}&size={size}" for size in AVATAR_SIZES},
    )


async def remove_avatar(*, runtime: Runtime, principal: Principal) -> None:
    async with runtime.db.transaction() as uow:
        rows = await dao.avatar_files(uow.session, principal.id)
        if not rows:
            raise NotFound("You have no avatar.", code="file.not_found")
        for row in rows:
            await delete_row(uow, runtime, row)
    await user_service.set_avatar_url(runtime=runtime, user_id=principal.id, url=None)


async def open_avatar(*, runtime: Runtime, user_id: int, size: int) -> Download:
    if size not in AVATAR_SIZES:
        raise ValidationFailed(
            "Unknown avatar size.",
            code="file.invalid_avatar_size",
            errors=[{"loc": ["query", "size"], "msg": "must be 256 or 64", "type": "enum"}],
        )
    async with runtime.db.read() as session:
        rows = await dao.avatar_files(session, user_id)
    row = next((row for row in rows if row.variant == str(size)), None)
    if row is None:
        raise NotFound("This user has no avatar.", code="file.not_found")
    return await open_download(row, get_storage(runtime), None)
