"""Export jobs over their life: progress, cancel (queued and running), a dead worker's job
restarted, too many restarts, expiry of files, and who may see a job."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from tessera.blocks.report.model.do import ReportJobDO
from tessera.blocks.report.service import jobs as job_service
from tessera.lib.db import utcnow
from tessera.lib.tasks.worker import list_events
from tests.helpers import SignedIn, drain, signed_in
from tests.report.conftest import make_product, place, run_jobs


async def _start_export(api, user: SignedIn, kind: str = "orders", **filters) -> dict:
    response = await api.post(
        "/api/v1/reports/exports",
        json={"kind": kind, "format": "xlsx", "filters": filters},
        headers=user.headers,
    )
    assert response.status_code == 202, response.text
    return response.json()


async def _set(api, job_id: str, **values) -> None:
    async with api.runtime.db.transaction() as uow:
        await uow.session.execute(
            update(ReportJobDO).where(ReportJobDO.id == job_id).values(**values)
        )


async def test_progress_and_finish_are_published_for_the_owner(api_with):
    async with api_with(report={"batch_rows": 100}) as api:
        staff = await signed_in(api, role="staff")
        customer = await signed_in(api)
        product = await make_product(api, staff, stock=1000)
        for _ in range(3):
            await place(api, customer, (product["id"], 1))
        job = await _start_export(api, customer)
        await run_jobs(api)
        done = (await api.get(job["url"], headers=customer.headers)).json()
        assert done["status"] == "succeeded"
        assert (done["rows_done"], done["rows_total"]) == (3, 3)
        assert done["expires_at"] is not None
        events = await list_events(api.runtime.db, status=None, limit=500)
        topics = [event.topic for event in events]
        assert "report.job_progress" in topics
        assert "report.job_finished" in topics


async def test_cancel_a_queued_job(api, customer: SignedIn):
    job = await _start_export(api, customer)
    cancelled = await api.delete(job["url"], headers=customer.headers)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    await run_jobs(api)
    after = (await api.get(job["url"], headers=customer.headers)).json()
    assert after["status"] == "cancelled"
    assert after["file_url"] is None
    download = await api.get(job["url"] + "/file", headers=customer.headers)
    assert download.status_code == 409
    assert download.json()["code"] == "report.job_not_ready"


async def test_cancel_a_running_job_stops_it_and_keeps_no_file(api, customer: SignedIn):
    job = await _start_export(api, customer)
    await drain(api)
    await api.runtime.slots.get(job_service.RUNNER).idle()  # (the wake-up finds it done)
    await _set(api, job["id"], status="queued", file_id=None)
    claimed = await job_service.claim_job(api.runtime, "worker-a")
    assert claimed is not None
    assert claimed.id == job["id"]
    assert (await api.delete(job["url"], headers=customer.headers)).json()["status"] == "cancelled"
    await job_service.run_job(api.runtime, claimed, "worker-a")  # notices at its first step
    after = (await api.get(job["url"], headers=customer.headers)).json()
    assert after["status"] == "cancelled"
    assert after["file_url"] is None


async def test_a_dead_workers_job_is_restarted(api, customer: SignedIn):
    job = await _start_export(api, customer)
    claimed = await job_service.claim_job(api.runtime, "worker-that-dies")
    assert claimed is not None
    # The worker died: it never renews its lease, which runs out.
    await job_service.run_jobs(runtime=api.runtime)
    leased = (await api.get(job["url"], headers=customer.headers)).json()
    assert leased["status"] == "running"  # leased: nobody else takes it yet
    await _set(api, job["id"], lease_until=utcnow() - timedelta(seconds=1))
    await run_jobs(api)
    after = (await api.get(job["url"], headers=customer.headers)).json()
    assert after["status"] == "succeeded"
    assert (await api.get(after["file_url"], headers=customer.headers)).status_code == 200
    async with api.runtime.db.read() as session:
        row = await session.get(ReportJobDO, job["id"])
        assert row is not None
        assert row.attempts == 2


async def test_a_job_interrupted_too_often_fails(api, customer: SignedIn):
    job = await _start_export(api, customer)
    await _set(
        api,
        job["id"],
        status="running",
        attempts=api.settings.report.job_max_attempts,
        lease_until=utcnow() - timedelta(seconds=1),
        worker_id="gone",
    )
    await run_jobs(api)
    after = (await api.get(job["url"], headers=customer.headers)).json()
    assert after["status"] == "failed"
    assert after["error"]["code"] == "report.too_many_attempts"


async def test_clean_shutdown_hands_running_jobs_back(api, customer: SignedIn):
    job = await _start_export(api, customer)
    runner = api.runtime.slots.get(job_service.RUNNER)
    claimed = await job_service.claim_job(api.runtime, runner.worker_id)
    assert claimed is not None
    runner._running[claimed.id] = claimed  # as if its task were in the middle of it
    await runner.stop()
    after = (await api.get(job["url"], headers=customer.headers)).json()
    assert after["status"] == "queued"
    await api.delete(job["url"], headers=customer.headers)  # leave nothing queued behind


async def test_files_expire(api, customer: SignedIn):
    job = await _start_export(api, customer)
    await run_jobs(api)
    done = (await api.get(job["url"], headers=customer.headers)).json()
    assert (await api.get(done["file_url"], headers=customer.headers)).status_code == 200
    await _set(api, job["id"], expires_at=utcnow() - timedelta(seconds=1))
    assert await job_service.expire_jobs(runtime=api.runtime) == 1
    await drain(api)  # file.deleted removes the bytes
    after = (await api.get(job["url"], headers=customer.headers)).json()
    assert after["status"] == "expired"
    gone = await api.get(job["url"] + "/file", headers=customer.headers)
    assert gone.status_code == 410
    assert gone.json()["code"] == "report.file_expired"
    files = (await api.get("/api/v1/files?purpose=report", headers=customer.headers)).json()
    assert files["total"] == 0


async def test_another_users_job_is_not_found(api, customer: SignedIn, admin: SignedIn):
    job = await _start_export(api, customer)
    await run_jobs(api)
    other = await signed_in(api)
    for method, path in (
        ("GET", job["url"]),
        ("GET", job["url"] + "/file"),
        ("DELETE", job["url"]),
        ("GET", f"/api/v1/reports/imports/{job['id']}"),
    ):
        response = await api.request(method, path, headers=other.headers)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["code"] == "report.job_not_found"
    listed = (await api.get("/api/v1/reports/exports", headers=other.headers)).json()
    assert listed["total"] == 0
    forbidden = await api.get(
        f"/api/v1/reports/exports?owner_id={customer.id}", headers=other.headers
    )
    assert forbidden.status_code == 403
    # report:read:any (admins) sees and downloads it.
    assert (await api.get(job["url"], headers=admin.headers)).status_code == 200
    assert (await api.get(job["url"] + "/file", headers=admin.headers)).status_code == 200
    mine = (await api.get("/api/v1/reports/exports", headers=customer.headers)).json()
    assert [item["id"] for item in mine["items"]] == [job["id"]]


async def test_customers_export_only_their_own_orders(api, staff: SignedIn, customer: SignedIn):
    product = await make_product(api, staff)
    other = await signed_in(api)
    mine = await place(api, customer, (product["id"], 1))
    await place(api, other, (product["id"], 1))
    job = await _start_export(api, customer, user_id=other.id)
    await run_jobs(api)
    done = (await api.get(job["url"], headers=customer.headers)).json()
    assert done["params"]["filters"]["user_id"] == customer.id
    from tests.report.conftest import workbook

    data = (await api.get(done["file_url"], headers=customer.headers)).content
    ids = [row[0] for row in workbook(data).active.iter_rows(min_row=2, values_only=True)]
    assert ids == [mine["id"]]


async def test_products_and_users_exports_need_their_permissions(api, customer: SignedIn):
    for kind in ("products", "users"):
        response = await api.post(
            "/api/v1/reports/exports", json={"kind": kind}, headers=customer.headers
        )
        assert response.status_code == 403
    bad = await api.post(
        "/api/v1/reports/exports",
        json={"kind": "orders", "filters": {"colour": "red"}},
        headers=customer.headers,
    )
    assert bad.status_code == 422
