"""The fault suite's deployment: real `tessera serve` / `tessera worker` processes over a
database of the parametrised kind and a private Redis, all started (and killed) by the tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Backend
from tests.faults.cluster import Deployment, deployment


@pytest.fixture
def deployed(
    backend: Backend, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Deployment]:
    marker = request.node.get_closest_marker("deployment_settings")
    settings: dict[str, str] = dict(marker.kwargs) if marker else {}
    with deployment(backend.name, tmp_path, **settings) as running:
        yield running
