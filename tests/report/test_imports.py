"""The product import: the template, strict all-or-nothing, partial commits, every kind of
bad input, and the errors as JSON and as an annotated sheet."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import openpyxl
import pytest

from tests.helpers import SignedIn, unique
from tests.report.conftest import make_product, run_jobs, workbook

HEADER = ["sku", "name", "description", "price", "currency", "stock", "status"]


def sheet(*rows: list[Any], header: list[Any] | None = None) -> bytes:
    book = openpyxl.Workbook()
    book.active.append(header or HEADER)
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def upload(api, user: SignedIn, data: bytes, *, mode: str = "strict", name: str = "p.xlsx"):
    return await api.post(
        f"/api/v1/products/import?mode={mode}",
        files={"file": (name, data, "application/octet-stream")},
        headers=user.headers,
    )


async def skus_in_catalogue(api, staff: SignedIn, prefix: str) -> set[str]:
    response = await api.get(f"/api/v1/products?q={prefix}&size=100", headers=staff.headers)
    return {item["sku"] for item in response.json()["items"]}


async def test_template_has_the_columns_notes_and_lists(api, staff: SignedIn):
    response = await api.get("/api/v1/products/import-template.xlsx", headers=staff.headers)
    assert response.status_code == 200
    book = workbook(response.content)
    sheet_ = book.active
    assert [cell.value for cell in sheet_[1]] == HEADER
    assert "Required" in sheet_["A1"].comment.text
    assert sheet_.freeze_panes == "A2"
    lists = [dv for dv in sheet_.data_validations.dataValidation if dv.type == "list"]
    assert lists
    assert "active" in lists[0].formula1


async def test_strict_import_creates_every_row(api, staff: SignedIn):
    prefix = unique("IMP")
    data = sheet(
        [f"{prefix}-1", "西湖龙井", "明前", 88, "CNY", 10, "active"],
        [f"{prefix}-2", "Oolong", None, "12.5", None, 0, None],
    )
    response = await upload(api, staff, data)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["rows_total"] == 2
    assert result["rows_imported"] == 2
    assert result["errors"] == []
    assert await skus_in_catalogue(api, staff, prefix) == {f"{prefix}-1", f"{prefix}-2"}
    listed = (await api.get(f"/api/v1/products?q={prefix}-2", headers=staff.headers)).json()
    product = listed["items"][0]
    assert product["price"] == "12.50"
    assert product["currency"] == "CNY"
    assert product["status"] == "active"


async def test_strict_import_is_all_or_nothing(api, staff: SignedIn):
    prefix = unique("IMP")
    existing = await make_product(api, staff, sku=f"{prefix}-taken")
    data = sheet(
        [f"{prefix}-ok", "Good", None, 10, None, 1, None],
        [f"{prefix}-bad-price", "Bad price", None, "ten", None, 1, None],
        [f"{prefix}-ok", "Duplicate in file", None, 10, None, 1, None],
        [existing["sku"], "Exists already", None, 10, None, 1, None],
        [None, "No SKU", None, "1.234", None, -1, "gone"],
        [f"{prefix}-f", "=1+1", None, 10, None, 1, None],
    )
    response = await upload(api, staff, data)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "report.import_rejected"
    found = {(error["loc"][2], error["loc"][3], error["type"]) for error in problem["errors"]}
    assert (3, "price", "type") in found
    assert (4, "sku", "duplicate_in_file") in found
    assert (5, "sku", "sku_exists") in found
    assert {(6, "sku", "required"), (6, "price", "precision"), (6, "stock", "range"),
            (6, "status", "invalid")} <= found  # fmt: skip
    assert (7, "name", "formula") in found
    assert await skus_in_catalogue(api, staff, prefix) == {existing["sku"]}  # nothing imported

    annotated = await api.get(problem["annotated_url"], headers=staff.headers)
    assert annotated.status_code == 200
    sheet_ = workbook(annotated.content).active
    assert sheet_["H1"].value.startswith("errors")
    assert "not a number" in sheet_["H3"].value
    assert sheet_["D3"].fill.fgColor.rgb == "FFFFC7CE"  # the bad price is red
    assert sheet_["A2"].fill.fill_type is None  # the good row is not
    job = await api.get(f"/api/v1/reports/imports/{problem['import_id']}", headers=staff.headers)
    assert job.json()["status"] == "failed"
    assert job.json()["result"]["rows_failed"] == 5


async def test_partial_import_commits_the_valid_rows(api, staff: SignedIn):
    prefix = unique("IMP")
    data = sheet(
        [f"{prefix}-1", "Good", None, 10, None, 1, None],
        [f"{prefix}-2", "Bad", None, 0, None, 1, None],
        [f"{prefix}-3", "Good too", None, "9.90", "usd", 5, "inactive"],
    )
    response = await upload(api, staff, data, mode="partial")
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["rows_imported"] == 2
    assert result["rows_failed"] == 1
    assert result["errors"] == [
        {"row": 3, "column": "price", "cell": "D3", "code": "range",
         "message": "The price must be greater than 0."}
    ]  # fmt: skip
    assert result["annotated_url"]
    assert await skus_in_catalogue(api, staff, prefix) == {f"{prefix}-1", f"{prefix}-3"}


async def test_an_empty_sheet_is_rejected(api, staff: SignedIn):
    buffer = io.BytesIO()
    openpyxl.Workbook().save(buffer)
    response = await upload(api, staff, buffer.getvalue(), mode="partial")
    assert response.status_code == 422
    assert response.json()["code"] == "report.import_rejected"
    assert [error["type"] for error in response.json()["errors"]] == ["empty"]


async def test_header_problems_reject_the_file(api, staff: SignedIn):
    data = sheet(["X-1", "n", 1], header=["sku", "name", "price", "colour"])
    response = await upload(api, staff, data, mode="partial")
    assert response.status_code == 422
    types = {error["type"] for error in response.json()["errors"]}
    assert types == {"unknown_column", "missing_column"}  # colour unknown, stock missing


@pytest.mark.parametrize(
    ("data", "name", "status", "code"),
    [
        (b"sku,name\nA,B\n", "p.xlsx", 415, "report.not_xlsx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "p.xls", 415, "report.not_xlsx"),
        (None, "p.xlsm", 415, "report.macro_enabled"),
    ],
)
async def test_files_that_are_not_plain_workbooks(api, staff: SignedIn, data, name, status, code):
    response = await upload(
        api, staff, data or sheet(["A", "b", None, 1, None, 1, None]), name=name
    )
    assert response.status_code == status, response.text
    assert response.json()["code"] == code


async def test_macro_workbook_disguised_as_xlsx(api, staff: SignedIn):
    source = io.BytesIO(sheet(["A", "b", None, 1, None, 1, None]))
    output = io.BytesIO()
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(output, "w") as new:
        for item in old.infolist():
            new.writestr(item, old.read(item))
        new.writestr("xl/vbaProject.bin", b"\0" * 64)
    response = await upload(api, staff, output.getvalue())
    assert response.status_code == 415
    assert response.json()["code"] == "report.macro_enabled"


async def test_zip_bomb_is_refused_before_parsing(api, staff: SignedIn):
    source = io.BytesIO(sheet(["A", "b", None, 1, None, 1, None]))
    output = io.BytesIO()
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            new.writestr(item, old.read(item))
        new.writestr("xl/media/pad.bin", b"\0" * (20 * 1024 * 1024))
    response = await upload(api, staff, output.getvalue())
    assert response.status_code == 413
    assert response.json()["code"] == "report.too_large"


async def test_size_row_and_column_limits(api_with):
    from tests.helpers import signed_in

    async with api_with(
        report={"import_max_bytes": 12_000, "import_max_rows": 2, "import_max_columns": 8}
    ) as api:
        staff = await signed_in(api, role="staff")
        big = await upload(api, staff, b"PK\x03\x04" + b"\0" * 20_000)
        assert big.status_code == 413
        assert big.json()["code"] == "report.import_too_large"
        rows = [[f"R{i}", "n", None, 1, None, 1, None] for i in range(3)]
        many = await upload(api, staff, sheet(*rows))
        assert many.status_code == 413
        assert many.json()["code"] == "report.too_many_rows"
        wide = await upload(api, staff, sheet(["A", "n", None, 1, None, 1, None, 1, 2, 3]))
        assert wide.status_code == 422
        assert wide.json()["code"] == "report.too_many_columns"


async def test_import_needs_product_manage(api, customer: SignedIn):
    response = await upload(api, customer, sheet(["A", "b", None, 1, None, 1, None]))
    assert response.status_code == 403


async def test_not_multipart(api, staff: SignedIn):
    response = await api.post(
        "/api/v1/products/import", content=b"PK\x03\x04", headers=staff.headers
    )
    assert response.status_code == 415
    assert response.json()["code"] == "report.multipart_required"


async def test_large_import_runs_as_a_job(api_with):
    from tests.helpers import signed_in

    async with api_with(report={"import_inline_max_bytes": 0}) as api:
        staff = await signed_in(api, role="staff")
        prefix = unique("JOB")
        rows = [[f"{prefix}-{i}", f"商品 {i}", None, "1.00", None, i, None] for i in range(50)]
        rows.append([f"{prefix}-bad", "bad", None, "x", None, 1, None])
        response = await upload(api, staff, sheet(*rows), mode="partial")
        assert response.status_code == 202, response.text
        accepted = response.json()
        await run_jobs(api)
        job = (await api.get(accepted["url"], headers=staff.headers)).json()
        assert job["status"] == "succeeded", job
        assert job["result"]["rows_imported"] == 50
        assert (job["rows_done"], job["rows_total"]) == (50, 51)
        assert job["result"]["errors"][0]["cell"] == "D52"
        annotated = await api.get(job["file_url"], headers=staff.headers)
        assert annotated.status_code == 200
        assert len(await skus_in_catalogue(api, staff, prefix)) == 50


async def test_large_strict_import_with_problems_fails_with_its_annotated_sheet(api_with):
    from tests.helpers import signed_in

    async with api_with(report={"import_inline_max_bytes": 0}) as api:
        staff = await signed_in(api, role="staff")
        prefix = unique("JOB")
        rows = [[f"{prefix}-{i}", "ok", None, "1.00", None, 1, None] for i in range(5)]
        rows.append([f"{prefix}-bad", "bad", None, "-1", None, 1, None])
        response = await upload(api, staff, sheet(*rows))
        assert response.status_code == 202, response.text
        await run_jobs(api)
        job = (await api.get(response.json()["url"], headers=staff.headers)).json()
        assert job["status"] == "failed"
        assert job["error"]["code"] == "report.import_rejected"
        assert job["result"]["errors"][0]["cell"] == "D7"
        assert job["result"]["rows_imported"] == 0
        annotated = await api.get(job["file_url"], headers=staff.headers)
        assert annotated.status_code == 200
        assert await skus_in_catalogue(api, staff, prefix) == set()
