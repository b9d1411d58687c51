"""Issue 9 item 17: a second embedded server (or a separate worker) on the same var/ is
refused with the first one's pid; once the first is gone (even killed), the var/ is free."""

from __future__ import annotations

from pathlib import Path

import pytest

from tessera.lib.migrations import upgrade_database
from tests.faults.procs import TESSERA, free_port, serve, start, tessera_env, wait_http_ok


@pytest.fixture
def embedded(tmp_path: Path) -> dict[str, str]:
    database = tmp_path / "var" / "tessera.db"
    upgrade_database(f"sqlite+aiosqlite:///{database}")
    return tessera_env(tmp_path / "var", TESSERA_DATABASE__URL=f"sqlite+aiosqlite:///{database}")


def test_second_embedded_server_on_one_var_is_refused(embedded: dict[str, str], tmp_path: Path):
    first_port = free_port()
    first = serve(embedded, tmp_path, first_port, name="first")
    try:
        wait_http_ok(first, f"http://127.0.0.1:{first_port}/healthz")
        second = serve(embedded, tmp_path, free_port(), name="second")
        assert second.process.wait(timeout=60) == 2
        message = second.output()
        assert f"pid {first.pid}" in message
        assert "embedded" in message
        assert "TESSERA_VAR_DIR" in message

        worker = start([TESSERA, "worker"], env=embedded, cwd=tmp_path, log_name="worker")
        assert worker.process.wait(timeout=60) == 2
        assert f"pid {first.pid}" in worker.output()
    finally:
        first.kill()  # a crash: the lock must not outlive it

    third_port = free_port()
    third = serve(embedded, tmp_path, third_port, name="third")
    try:
        wait_http_ok(third, f"http://127.0.0.1:{third_port}/healthz")
    finally:
        third.stop()
