"""Exports: direct downloads and jobs, read back as real spreadsheets."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest

from tests.helpers import SignedIn, unique
from tests.report.conftest import make_product, place, run_jobs, workbook


async def test_orders_export_is_a_real_spreadsheet(api, staff: SignedIn, customer: SignedIn):
    tea = await make_product(api, staff, name='=HYPERLINK("http://evil")', price="12.50")
    order = await place(api, customer, (tea["id"], 2))
    response = await api.get("/api/v1/orders/export.xlsx", headers=customer.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment" in response.headers["content-disposition"]
    sheet = workbook(response.content).active
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:J2"
    header = [cell.value for cell in sheet[1]]
    assert header[:5] == ["ID", "Order no.", "User ID", "Status", "Total"]
    row = sheet[2]
    assert row[0].value == order["id"]
    assert row[0].data_type == "n"
    assert row[1].value == order["order_no"]
    assert row[4].value == 25.0
    assert row[4].number_format == "#,##0.00"
    assert isinstance(row[8].value, datetime)
    assert row[8].is_date


async def test_direct_export_refused_above_the_limit(api_with, tmp_path):
    async with api_with(report={"direct_export_max_rows": 1}) as api:
        from tests.helpers import signed_in

        staff = await signed_in(api, role="staff")
        await make_product(api, staff)
        await make_product(api, staff)
        response = await api.get("/api/v1/products/export.xlsx", headers=staff.headers)
        assert response.status_code == 413
        assert response.json()["code"] == "report.export_too_large"
        assert "/api/v1/reports/exports" in response.json()["detail"]


async def test_export_job_runs_in_the_worker(api, staff: SignedIn):
    marker = unique("青花")
    for _ in range(3):
        await make_product(api, staff, name=f"景德镇{marker}瓷杯")
    response = await api.post(
        "/api/v1/reports/exports",
        json={"kind": "products", "format": "csv", "filters": {"q": marker}},
        headers=staff.headers,
    )
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["status"] == "queued"
    assert await run_jobs(api) >= 0
    status = (await api.get(job["url"], headers=staff.headers)).json()
    assert status["status"] == "succeeded", status
    assert status["rows_done"] == status["rows_total"] == 3
    download = await api.get(status["file_url"], headers=staff.headers)
    assert download.status_code == 200
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert len(rows) == 4
    assert rows[1][2] == f"景德镇{marker}瓷杯"


@pytest.mark.parametrize("path", ["/api/v1/orders/export.csv", "/api/v1/users/export.xlsx"])
async def test_export_paths_are_not_taken_for_ids(api, admin: SignedIn, path: str):
    response = await api.get(path, headers=admin.headers)
    assert response.status_code == 200, response.text


async def test_formula_looking_text_stays_text(api, staff: SignedIn):
    marker = unique("inj")
    evil = [f'=HYPERLINK("http://evil/{marker}","x")', f"+{marker}", f"@{marker}", f"-{marker}"]
    for text in evil:
        await make_product(api, staff, name=text, description=f"\t{marker}")
    response = await api.get(f"/api/v1/products/export.xlsx?q={marker}", headers=staff.headers)
    assert response.status_code == 200, response.text
    rows = list(workbook(response.content).active.iter_rows(min_row=2))
    assert sorted(row[2].value for row in rows) == sorted(evil)
    for row in rows:
        for cell in (row[2], row[3]):
            assert cell.data_type == "s"  # a string, never a formula
            assert cell.quotePrefix  # and it stays text when edited in Excel
    assert all(row[4].data_type == "n" for row in rows)  # the price is still a number
    as_csv = await api.get(f"/api/v1/products/export.csv?q={marker}", headers=staff.headers)
    lines = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert sorted(line[2] for line in lines[1:]) == sorted("'" + text for text in evil)
    assert all(line[3] == f"'\t{marker}" for line in lines[1:])


async def test_users_export_has_roles_and_flags(api, admin: SignedIn, staff: SignedIn):
    response = await api.get(f"/api/v1/users/export.xlsx?q={staff.username}", headers=admin.headers)
    assert response.status_code == 200
    sheet = workbook(response.content).active
    header = [cell.value for cell in sheet[1]]
    assert header == ["ID", "Username", "Email", "Phone", "Display name", "Roles", "Active",
                      "Email verified", "Created at"]  # fmt: skip
    [row] = list(sheet.iter_rows(min_row=2, values_only=True))
    assert row[0] == staff.id
    assert row[1] == staff.username
    assert row[5] == "staff"
    assert row[6] is True
    assert isinstance(row[8], datetime)
    forbidden = await api.get("/api/v1/users/export.csv", headers=staff.headers)
    assert forbidden.status_code == 403


async def test_the_xlsxwriter_fallback_engine_through_a_job(api_with):
    from tests.helpers import signed_in

    async with api_with(report={"xlsx_engine": "xlsxwriter"}) as api:
        staff = await signed_in(api, role="staff")
        customer = await signed_in(api)
        product = await make_product(api, staff, price="9.90")
        order = await place(api, customer, (product["id"], 3))
        response = await api.post(
            "/api/v1/reports/exports", json={"kind": "orders"}, headers=customer.headers
        )
        await run_jobs(api)
        job = (await api.get(response.json()["url"], headers=customer.headers)).json()
        assert job["status"] == "succeeded", job
        data = (await api.get(job["file_url"], headers=customer.headers)).content
        sheet = workbook(data).active
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref == "A1:J2"
        assert sheet["A2"].value == order["id"]
        assert sheet["E2"].value == 29.7
        assert sheet["E2"].number_format == "#,##0.00"
        assert sheet["I2"].is_date
