"""/readyz covers the storage backend once the file block is loaded."""

from __future__ import annotations


async def test_readyz_checks_storage(files_api):
    response = await files_api.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["storage"] == "ok"


async def test_readyz_is_503_when_fastdfs_is_unreachable(api_with):
    async with api_with(
        storage={
            "backend": "fastdfs",
            "fastdfs": {"trackers": ["127.0.0.1:1"], "connect_timeout_seconds": 1},
        }
    ) as api:
        response = await api.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["storage"] == "unavailable"
        assert response.json()["checks"]["database"] == "ok"
