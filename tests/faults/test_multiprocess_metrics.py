"""Issue 9 item 18: under `tessera serve --workers 2`, `/metrics` on any worker counts the
requests every worker answered (Prometheus multiprocess mode)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.conftest import Backend
from tests.faults.cluster import deployment
from tests.faults.procs import wait_until

_SAMPLE = re.compile(
    r'^tessera_http_requests_total\{method="GET",route="/readyz",status="200"\} ([0-9.e+]+)$',
    re.MULTILINE,
)


def test_metrics_add_up_every_worker(mariadb_backend: Backend, tmp_path: Path):
    with deployment("mariadb", tmp_path) as deployed:
        deployed.start_server("--workers", "2")
        folder = Path(deployed.env["TESSERA_VAR_DIR"]) / f"prometheus-{deployed.port}"
        sent = 0

        def both_workers_answered() -> bool:
            nonlocal sent
            # A new connection each time, so the kernel hands them to either worker.
            response = httpx.get(f"{deployed.base_url}/readyz", timeout=10)
            assert response.status_code == 200, response.text
            sent += 1
            pids = {path.stem.rsplit("_", 1)[-1] for path in folder.glob("counter_*.db")}
            return len(pids) >= 2

        wait_until(both_workers_answered, timeout=60, what="requests served by both workers")
        scraped = httpx.get(f"{deployed.base_url}/metrics", timeout=10)
        assert scraped.status_code == 200
        counted = _SAMPLE.search(scraped.text)
        assert counted is not None, scraped.text[:2000]
        assert float(counted.group(1)) == sent
