"""`/metrics`: who may read it, and what it shows when `tessera serve --workers N` runs several
processes (Prometheus multiprocess mode, enabled by `PROMETHEUS_MULTIPROC_DIR`).

The page names every route and its traffic, so it is not public: a scraper on an allowed
network connecting directly (no proxy headers), or one presenting `metrics.token`, reads it.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import shutil
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.requests import Request

from tessera.lib.config import MetricsSettings

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_PROXY_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")

__all__ = ["CONTENT_TYPE_LATEST", "metrics_allowed", "prepare_multiprocess_dir", "render"]


def metrics_allowed(request: Request, settings: MetricsSettings) -> bool:
    token = settings.token.get_secret_value() if settings.token else None
    if token:
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(presented.encode(), token.encode()):
            return True
    # Through a reverse proxy the peer is the proxy (often 127.0.0.1): a request that carries
    # proxy headers is from somewhere else, whatever its peer address.
    if any(name in request.headers for name in _PROXY_HEADERS):
        return False
    host = request.client.host if request.client else None
    if host is None:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(
        address in ipaddress.ip_network(network, strict=False) for network in settings.allow_from
    )


def render() -> bytes:
    """The exposition: this process's registry, or every worker's under multiprocess mode."""
    directory = os.environ.get(MULTIPROC_ENV)
    if not directory:
        return generate_latest()
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


def prepare_multiprocess_dir(directory: Path) -> Path:
    """An empty folder for the workers' metric files (old files would add stale counts)."""
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    return directory
