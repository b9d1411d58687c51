"""Request and response schemas of the report block."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from tessera.lib.types import Id, MoneyFilter

ExportKind = Literal["orders", "products", "users"]
ExportFormat = Literal["xlsx", "csv"]
ImportMode = Literal["strict", "partial"]
JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled", "expired"]
OrderStatus = Literal["pending_payment", "paid", "shipped", "completed", "cancelled", "refunded"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrderFilters(_In):
    """The filters of `GET /orders`."""

    status: OrderStatus | None = None
    user_id: Id | None = None


class ProductFilters(_In):
    """The filters of `GET /products`."""

    q: str | None = Field(default=None, max_length=100)
    min_price: MoneyFilter | None = None
    max_price: MoneyFilter | None = None
    status: Literal["active", "inactive"] | None = None


class UserFilters(_In):
    """The filters of `GET /users` (administration)."""

    q: str | None = Field(default=None, max_length=100)
    role: str | None = Field(default=None, max_length=32)
    is_active: StrictBool | None = None


class OrderExportIn(_In):
    kind: Literal["orders"]
    format: ExportFormat = "xlsx"
    filters: OrderFilters = Field(default_factory=OrderFilters)


class ProductExportIn(_In):
    kind: Literal["products"]
    format: ExportFormat = "xlsx"
    filters: ProductFilters = Field(default_factory=ProductFilters)


class UserExportIn(_In):
    kind: Literal["users"]
    format: ExportFormat = "xlsx"
    filters: UserFilters = Field(default_factory=UserFilters)


ExportIn = Annotated[OrderExportIn | ProductExportIn | UserExportIn, Field(discriminator="kind")]


class ImportProblem(BaseModel):
    """One thing wrong with an import: a cell (row and column), a whole row, or the sheet."""

    row: int | None = Field(description="1-based sheet row; None for the whole sheet")
    column: str | None = Field(description="the column's header, e.g. price")
    cell: str | None = Field(description="e.g. D7")
    code: str = Field(examples=["type", "required", "duplicate_in_file", "sku_exists"])
    message: str


class ImportResult(BaseModel):
    mode: ImportMode
    rows_total: int
    rows_imported: int
    rows_failed: int
    errors: list[ImportProblem]
    # Only the first errors are listed; the annotated sheet marks every one.
    errors_truncated: bool = False
    annotated_url: str | None = Field(
        default=None, description="The uploaded sheet with an error column and red cells"
    )


class JobError(BaseModel):
    code: str
    detail: str


class JobOut(BaseModel):
    id: str
    direction: Literal["export", "import"]
    kind: ExportKind
    format: ExportFormat
    status: JobStatus
    rows_done: int
    rows_total: int | None
    params: dict[str, Any]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    expires_at: datetime | None
    file_url: str | None = Field(description="Download link once the job succeeded")
    error: JobError | None = None
    result: ImportResult | None = None


class JobAccepted(BaseModel):
    id: str
    status: JobStatus
    url: str = Field(description="Poll here for progress")
