"""A job's progress and outcome reach its owner's `user:<id>` channel (realtime block), with
the worker running inside the server as in embedded mode."""

from __future__ import annotations

import asyncio

from tests.helpers import signed_in
from tests.realtime.conftest import live  # noqa: F401  (the fixture)
from tests.realtime.helpers import next_topic, socket_for


async def test_export_job_is_pushed_to_its_owner(live):  # noqa: F811
    customer = await signed_in(live)
    owner = await socket_for(live, customer)
    try:
        await owner.subscribe(f"user:{customer.id}")
        response = await live.post(
            "/api/v1/reports/exports", json={"kind": "orders"}, headers=customer.headers
        )
        assert response.status_code == 202, response.text
        async with asyncio.timeout(20):  # a bound, not a measurement: the worker polls
            progress = await next_topic(owner, f"user:{customer.id}", "report.job_progress")
            finished = await next_topic(owner, f"user:{customer.id}", "report.job_finished")
    finally:
        await owner.close()
    assert progress["data"]["job_id"] == response.json()["id"]
    assert finished["data"]["status"] == "succeeded"
    assert finished["data"]["file_url"].endswith("/file")
    download = await live.get(finished["data"]["file_url"], headers=customer.headers)
    assert download.status_code == 200
