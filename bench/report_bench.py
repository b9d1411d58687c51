"""The report block's costs: the xlsx writer alone, a 1,000,000-row orders export through the
job API (database to stored file), a 100,000-row product import, and invoices per second.

What it measures
----------------
1. ``writer``: the same synthetic rows (10 columns shaped like the orders export: int, order
   number, int, status, money, currency, payment, tracking number, two datetimes) written by
   each engine, each in its own subprocess so that its peak RSS is its own:
   - ``xlsxwriter`` (XlsxWriter ``constant_memory``): the reference, measured in the same run;
   - ``tessera``: our streaming SpreadsheetML writer (the default engine);
   - ``rustpy``: rustpy-xlsxwriter fed dict rows from a generator (it takes no tuples), for
     comparison only; it is not behind the interface.
   Rows are generated in the writer's process; generating them alone is timed too (``rows
   only``) and shown, so the writers' own cost can be read off.
2. ``export``: a throw-away database (``--backend sqlite`` or ``mariadb``) with ``--rows``
   orders inserted directly, then in one process: ``POST /api/v1/reports/exports`` (ASGI,
   in-process), the job run by the runner as the worker runs it (keyset pages -> writer
   thread -> file block -> local storage), until the job reports ``succeeded``. Time from the
   POST to success, rows/s, and the peak RSS growth during the export (a sampler thread reads
   VmRSS every 20 ms; the baseline is taken after seeding).
3. ``import``: ``--import-rows`` products in an xlsx made by our writer, ``POST
   /api/v1/products/import?mode=strict`` imported in the request (``import_inline_max_bytes``
   raised for it): rows/s end to end (upload, checks, duplicate lookups, insert).
4. ``invoices``: ``render_document`` of a 5-line and a 40-line invoice, CPU time per
   document on one core (``time.process_time``), i.e. invoices/s per core.

Run: ``.venv/bin/python bench/report_bench.py [--rows 1000000] [--backend sqlite|mariadb]
[--only writer,export,import,invoices]``. MariaDB: 127.0.0.1:3306, root, no password; the
database is created and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

BASE = datetime(2026, 1, 1, tzinfo=UTC)
STATUSES = ("paid", "shipped", "completed", "cancelled", "pending_payment")


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class PeakRss:
    """Samples VmRSS in a thread; `growth` is the peak above the baseline at start."""

    def __init__(self) -> None:
        self.baseline = rss_mib()
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_mib())

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mib())

    @property
    def growth(self) -> float:
        return self.peak - self.baseline


def synthetic_row(i: int) -> tuple[object, ...]:
    created = BASE + timedelta(seconds=i)
    return (
        i + 1,
        f"T2026{i:012d}",
        1000 + i % 977,
        STATUSES[i % 5],
        Decimal(f"{i % 10000}.{i % 100:02d}"),
        "CNY",
        "sandbox",
        f"SF{i:010d}" if i % 3 else None,
        created,
        created + timedelta(minutes=5),
    )


# --- 1. the writer alone ---------------------------------------------------------------------


def writer_child(engine: str, rows: int) -> dict[str, Any]:
    """Runs in a subprocess: write `rows` synthetic rows with `engine` to a temp file."""
    from tessera.blocks.report.service.sources import SOURCES
    from tessera.lib.office import open_xlsx

    columns = SOURCES["orders"].columns
    target = Path(tempfile.mkdtemp()) / f"{engine}.xlsx"
    memory = PeakRss().__enter__()  # the baseline: interpreter and imports loaded
    started = time.perf_counter()
    if engine == "rows":
        for i in range(rows):
            synthetic_row(i)
    elif engine == "rustpy":
        import rustpy_xlsxwriter

        names = [column.header for column in columns]

        def records() -> Any:
            for i in range(rows):
                row = dict(zip(names, synthetic_row(i), strict=True))
                row["Total"] = float(row["Total"])  # it writes no Decimal
                row["Created at"] = row["Created at"].replace(tzinfo=None)
                row["Updated at"] = row["Updated at"].replace(tzinfo=None)
                yield row

        rustpy_xlsxwriter.write_worksheet(
            records(),
            str(target),
            freeze_row=1,
            autofilter=True,
            float_format="#,##0.00",
            datetime_format="yyyy-mm-dd hh:mm:ss",
        )
    else:
        with open(target, "wb") as handle:
            writer = open_xlsx(handle, columns, engine=engine)  # type: ignore[arg-type]
            batch: list[tuple[object, ...]] = []
            for i in range(rows):
                batch.append(synthetic_row(i))
                if len(batch) == 2000:
                    writer.write_rows(batch)
                    batch = []
            writer.write_rows(batch)
            writer.close()
    seconds = time.perf_counter() - started
    memory.__exit__()
    size = target.stat().st_size if target.exists() else 0
    return {"engine": engine, "seconds": seconds, "rss_growth_mib": memory.growth, "bytes": size}


def bench_writer(rows: int) -> list[dict[str, Any]]:
    results = []
    for engine in ("rows", "xlsxwriter", "tessera", "rustpy"):
        output = subprocess.run(
            [sys.executable, __file__, "--child-writer", engine, "--rows", str(rows)],
            check=True,
            capture_output=True,
            text=True,
        )
        result = json.loads(output.stdout.strip().splitlines()[-1])
        results.append(result)
        print(
            f"  {engine:<11} {result['seconds']:7.2f} s  {rows / result['seconds']:>9,.0f} rows/s"
            f"  peak RSS growth {result['rss_growth_mib']:6.1f} MiB"
            f"  {result['bytes'] / 1e6:6.1f} MB",
            flush=True,
        )
    by = {result["engine"]: result for result in results}
    reference = by["xlsxwriter"]["seconds"]
    print(
        f"  tessera is {reference / by['tessera']['seconds']:.1f}x xlsxwriter constant_memory; "
        f"rustpy {reference / by['rustpy']['seconds']:.1f}x (rows alone: "
        f"{by['rows']['seconds']:.2f} s)"
    )
    return results


# --- 2-4: through the API ---------------------------------------------------------------------


async def _create_mariadb(name: str, statement: str) -> None:
    import asyncmy

    connection = await asyncmy.connect(host="127.0.0.1", port=3306, user="root", password="")
    try:
        async with connection.cursor() as cursor:
            await cursor.execute(statement.format(name=name))
    finally:
        connection.close()


def _settings(database_url: str, cache_url: str | None, var_dir: Path, **report: Any) -> Any:
    from tessera.lib.config import Settings

    return Settings(
        env="test",
        var_dir=var_dir,
        database={"url": database_url},
        cache={"url": cache_url, "key_prefix": f"bench-{uuid.uuid4().hex[:8]}"},
        security={
            "jwt_secret": "bench-secret-" + "x" * 40,
            "argon2_time_cost": 1,
            "argon2_memory_kib": 1024,
            "argon2_parallelism": 1,
        },
        logging={"level": "WARNING", "access_log": False},
        tasks={"worker_in_process": "off"},
        report={
            "import_inline_max_bytes": 200 * 1024 * 1024,
            "import_max_rows": 1_000_000,
            "import_max_bytes": 200 * 1024 * 1024,
            **report,
        },
    )


async def _seed_orders(runtime: Any, rows: int) -> None:
    from sqlalchemy import insert

    from tessera.blocks.order.model.do import OrderDO

    batch = 20_000
    for start in range(0, rows, batch):
        values = []
        for i in range(start, min(rows, start + batch)):
            created = BASE + timedelta(seconds=i)
            values.append(
                {
                    "order_no": f"B{i:015d}",
                    "user_id": 1 + i % 977,
                    "status": STATUSES[i % 5],
                    "total": Decimal(f"{i % 10000}.{i % 100:02d}"),
                    "currency": "CNY",
                    "shipping_address": "上海市",
                    "version": 1,
                    "payment_method": "sandbox",
                    "tracking_no": f"SF{i:010d}" if i % 3 else None,
                    "created_at": created,
                    "updated_at": created + timedelta(minutes=5),
                }
            )
        async with runtime.db.transaction() as uow:
            await uow.session.execute(insert(OrderDO), values)


async def bench_api(args: argparse.Namespace, parts: set[str]) -> None:
    from tests.conftest import open_api
    from tests.helpers import signed_in

    from tessera.cli import upgrade_database

    work = Path(tempfile.mkdtemp(prefix="report-bench-"))
    db_name = f"tessera_bench_{uuid.uuid4().hex[:8]}"
    if args.backend == "mariadb":
        await _create_mariadb(
            db_name, "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
        url = f"mysql+asyncmy://root@127.0.0.1:3306/{db_name}?charset=utf8mb4"
        cache = "redis://127.0.0.1:6379/0"
    else:
        url, cache = f"sqlite+aiosqlite:///{work / 'bench.db'}", None
    try:
        await asyncio.to_thread(upgrade_database, url)
        settings = _settings(url, cache, work / "var")
        async with open_api(settings) as api:
            admin = await signed_in(api, role="admin")
            if "export" in parts:
                await _bench_export(api, admin, args.rows)
            if "import" in parts:
                await _bench_import(api, admin, args.import_rows)
    finally:
        if args.backend == "mariadb":
            await _create_mariadb(db_name, "DROP DATABASE IF EXISTS `{name}`")


async def _bench_export(api: Any, admin: Any, rows: int) -> None:
    from tessera.blocks.report import service as report_service

    started = time.perf_counter()
    await _seed_orders(api.runtime, rows)
    print(f"  seeded {rows:,} orders in {time.perf_counter() - started:.1f} s", flush=True)
    with PeakRss() as memory:
        started = time.perf_counter()
        response = await api.post(
            "/api/v1/reports/exports",
            json={"kind": "orders", "format": "xlsx"},
            headers=admin.headers,
        )
        assert response.status_code == 202, response.text
        job_url = response.json()["url"]
        await report_service.run_jobs(runtime=api.runtime)
        seconds = time.perf_counter() - started
    job = (await api.get(job_url, headers=admin.headers)).json()
    assert job["status"] == "succeeded", job
    size = 0
    async with api.stream("GET", job["file_url"], headers=admin.headers) as download:
        async for chunk in download.aiter_bytes():
            size += len(chunk)
    print(
        f"  export {job['rows_done']:,} rows x 10 columns: {seconds:.2f} s, "
        f"{job['rows_done'] / seconds:,.0f} rows/s, peak RSS growth {memory.growth:.1f} MiB, "
        f"file {size / 1e6:.1f} MB",
        flush=True,
    )


async def _bench_import(api: Any, admin: Any, rows: int) -> None:
    import io

    from tessera.lib.office import Column, open_xlsx

    columns = [
        Column(name)
        for name in ("sku", "name", "description", "price", "currency", "stock", "status")
    ]
    buffer = io.BytesIO()
    writer = open_xlsx(buffer, columns)
    prefix = uuid.uuid4().hex[:6]
    writer.write_rows(
        (f"{prefix}-{i}", f"商品 {i} Product", "", f"{i % 1000 + 1}.50", "CNY", i % 100, "active")
        for i in range(rows)
    )
    writer.close()
    data = buffer.getvalue()
    await asyncio.to_thread(_bench_readers, data, rows)
    started = time.perf_counter()
    response = await api.post(
        "/api/v1/products/import?mode=strict",
        files={"file": ("products.xlsx", data, "application/octet-stream")},
        headers=admin.headers,
    )
    seconds = time.perf_counter() - started
    assert response.status_code == 200, response.text[:500]
    imported = response.json()["rows_imported"]
    print(
        f"  import {imported:,} products ({len(data) / 1e6:.1f} MB xlsx), strict: {seconds:.2f} s,"
        f" {imported / seconds:,.0f} rows/s",
        flush=True,
    )


def _bench_readers(data: bytes, rows: int) -> None:
    """The import's reader alone on the same file, next to python-calamine and openpyxl."""
    import io

    import openpyxl
    import python_calamine

    from tessera.lib.office import ReadLimits, open_workbook

    def ours() -> int:
        limits = ReadLimits(max_rows=rows + 1)
        return sum(1 for _ in open_workbook(io.BytesIO(data), limits).rows())

    def calamine() -> int:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        return sum(1 for _ in book.get_sheet_by_index(0).iter_rows())

    def openpyxl_read_only() -> int:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        return sum(1 for _ in book.active.iter_rows(values_only=True))

    for name, read in (
        ("tessera reader", ours),
        ("python-calamine", calamine),
        ("openpyxl read_only", openpyxl_read_only),
    ):
        started = time.process_time()
        count = read()
        seconds = time.process_time() - started
        rate = count / seconds
        print(f"  read {count:,} rows with {name:<18} {seconds:6.2f} s CPU, {rate:>9,.0f} rows/s")


def bench_invoices(count: int) -> None:
    from tessera.lib.office.pdf import DocumentLine, OrderDocument, Party, render_document

    def document(lines: int) -> OrderDocument:
        items = [
            DocumentLine(
                f"SKU-{i}",
                f"西湖龙井 明前特级 {i}",
                1 + i % 3,
                Decimal("88.00"),
                Decimal("88.00") * (1 + i % 3),
            )
            for i in range(lines)
        ]
        return OrderDocument(
            kind="invoice",
            order_no="T202612010000042",
            issued_at=BASE,
            seller=Party("某某商城有限公司", ("上海市浦东新区世纪大道 1 号",)),
            buyer=Party("张三", ("北京市海淀区",)),
            lines=items,
            currency="CNY",
            total=sum((item.line_total for item in items), Decimal(0)),
            tax_rate=Decimal("0.13"),
        )

    render_document(document(1))  # font registration, once per process
    for lines in (5, 40):
        doc = document(lines)
        started = time.process_time()
        for _ in range(count):
            render_document(doc)
        per = (time.process_time() - started) / count
        print(
            f"  invoice with {lines:>2} lines: {per * 1000:5.1f} ms CPU, {1 / per:5.0f}/s per core"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--invoices", type=int, default=100)
    parser.add_argument("--backend", choices=("sqlite", "mariadb"), default="sqlite")
    parser.add_argument("--only", default="writer,export,import,invoices")
    parser.add_argument("--child-writer", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_writer:
        print(json.dumps(writer_child(args.child_writer, args.rows)))
        return
    parts = set(args.only.split(","))
    print(f"report bench: {args.rows:,} rows, backend {args.backend}, CPUs {os.cpu_count()}")
    if "writer" in parts:
        print("writer alone (each in its own process):")
        bench_writer(args.rows)
    if parts & {"export", "import"}:
        print(f"through the API ({args.backend}):")
        asyncio.run(bench_api(args, parts))
    if "invoices" in parts:
        print("invoices (reportlab, WenQuanYi Micro Hei):")
        bench_invoices(args.invoices)


if __name__ == "__main__":
    main()
