"""PUT/DELETE /api/v1/users/me/avatar and GET /api/v1/users/{id}/avatar on every storage
backend: re-encoding strips metadata, two sizes, replacing deletes the old bytes, and
non-images, oversize uploads and decompression bombs are refused."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

from tests.conftest import Api, ApiFactory
from tests.file.conftest import StorageCase
from tests.file.helpers import png_image, upload
from tests.helpers import drain, signed_in

AVATAR = "/api/v1/users/me/avatar"


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that declares a huge canvas: a decompression bomb's calling card."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


async def _put(api: Api, headers: dict[str, str], content: bytes, name: str = "me.png") -> object:
    return await upload(api, headers, content, path=AVATAR, method="PUT", filename=name)


async def test_avatar_is_reencoded_in_two_sizes(files_api: Api, storage_case: StorageCase) -> None:
    user = await signed_in(files_api)
    original = png_image(640, 480, exif=True)  # a JPEG with camera EXIF and orientation
    assert b"SecretCam" in original
    response = await upload(files_api, user.headers, original, path=AVATAR, method="PUT")
    assert response.status_code == 200, response.text
    url = response.json()["avatar_url"]
    assert url.startswith(f"/api/v1/users/{user.id}/avatar")

    me = await files_api.get("/api/v1/users/me", headers=user.headers)
    assert me.json()["avatar_url"] == url

    for size in (256, 64):
        image = await files_api.get(f"/api/v1/users/{user.id}/avatar", params={"size": size})
        assert image.status_code == 200
        assert image.headers["content-type"] == "image/png"
        assert b"SecretCam" not in image.content
        decoded = Image.open(io.BytesIO(image.content))
        assert decoded.format == "PNG"
        assert decoded.size == (size, size)
        assert not decoded.getexif()
    assert await storage_case.count() == 2


async def test_new_avatar_replaces_the_old_one(files_api: Api, storage_case: StorageCase) -> None:
    user = await signed_in(files_api)
    first = await upload(files_api, user.headers, png_image(100, 100), path=AVATAR, method="PUT")
    second = await upload(files_api, user.headers, png_image(90, 120), path=AVATAR, method="PUT")
    assert first.status_code == second.status_code == 200
    assert first.json()["avatar_url"] != second.json()["avatar_url"]
    await drain(files_api)
    assert await storage_case.count() == 2  # the first avatar's bytes are gone
    listed = await files_api.get(
        "/api/v1/files", params={"purpose": "avatar"}, headers=user.headers
    )
    avatars = listed.json()["items"]
    assert len(avatars) == 2
    # An avatar is not deleted through /files (the profile would point at nothing).
    refused = await files_api.delete(f"/api/v1/files/{avatars[0]['id']}", headers=user.headers)
    assert refused.status_code == 409

    removed = await files_api.delete(AVATAR, headers=user.headers)
    assert removed.status_code == 204
    me = await files_api.get("/api/v1/users/me", headers=user.headers)
    assert me.json()["avatar_url"] is None
    await drain(files_api)
    assert await storage_case.count() == 0
    gone = await files_api.get(f"/api/v1/users/{user.id}/avatar")
    assert gone.status_code == 404


async def test_bad_avatars_are_refused(files_api: Api, storage_case: StorageCase) -> None:
    user = await signed_in(files_api)
    cases = [
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "x.png", 415, "file.unsupported_type"),
        (b"GIF89a" + bytes(100), "x.png", 415, "file.unsupported_type"),  # not png/jpeg/webp
        (_png_header_only(100_000, 100_000), "bomb.png", 422, "file.image_too_large"),
        (b"\x89PNG\r\n\x1a\n" + b"garbage" * 20, "broken.png", 422, "file.invalid_image"),
        (b"", "empty.png", 422, "file.empty"),
    ]
    for content, name, status, code in cases:
        response = await upload(
            files_api, user.headers, content, path=AVATAR, method="PUT", filename=name
        )
        assert response.status_code == status, (name, response.text)
        assert response.json()["code"] == code
    assert await storage_case.count() == 0
    me = await files_api.get("/api/v1/users/me", headers=user.headers)
    assert me.json()["avatar_url"] is None


async def test_avatar_size_limit(api_with: ApiFactory, storage_case: StorageCase) -> None:
    async with api_with(storage={**storage_case.settings, "max_avatar_bytes": 10_000}) as api:
        user = await signed_in(api)
        big = png_image(400, 400) + b"\x00" * 20_000  # trailing junk makes it big
        response = await upload(api, user.headers, big, path=AVATAR, method="PUT")
        assert response.status_code == 413
        assert response.json()["code"] == "file.too_large"
        assert await storage_case.count() == 0
