"""`tessera reports run-jobs`: an operator (or cron) runs due jobs without a worker."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import Backend, make_settings, open_api
from tests.helpers import signed_in


def test_run_jobs_command_finishes_queued_jobs(
    sqlite_backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tessera.cli import app

    settings = make_settings(sqlite_backend, tmp_path)

    async def queue() -> tuple[str, dict[str, str]]:
        async with open_api(settings) as api:
            user = await signed_in(api)
            response = await api.post(
                "/api/v1/reports/exports", json={"kind": "orders"}, headers=user.headers
            )
            assert response.status_code == 202, response.text
            return response.json()["url"], user.headers

    url, headers = asyncio.run(queue())
    monkeypatch.setenv("TESSERA_DATABASE__URL", sqlite_backend.database_url)
    monkeypatch.setenv("TESSERA_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("TESSERA_CACHE__URL", "")
    result = CliRunner().invoke(app, ["reports", "run-jobs"])
    assert result.exit_code == 0, result.output
    assert "ran " in result.output

    async def status() -> dict[str, object]:
        async with open_api(settings) as api:
            job: dict[str, object] = (await api.get(url, headers=headers)).json()
            download = await api.get(str(job["file_url"]), headers=headers)
            assert download.status_code == 200
            return job

    assert asyncio.run(status())["status"] == "succeeded"
