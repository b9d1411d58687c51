"""Response schemas of the file block (pydantic v2). Uploads are multipart and parsed by
the controller as a stream, so there are no request models for them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

# `report`: files the report block generated (exports, annotated imports); not uploadable.
Purpose = Literal["attachment", "avatar", "order_document", "report"]
PURPOSES: tuple[str, ...] = ("attachment", "avatar", "order_document")


class FileOut(BaseModel):
    id: str = Field(examples=["3f2a9c0e5b7d4e1f8a6b2c3d4e5f6a7b"])
    name: str = Field(description="original file name, sanitized")
    size: int = Field(description="bytes")
    content_type: str = Field(description="detected from the content, not the client's claim")
    sha256: str
    purpose: Purpose
    order_id: int | None = None
    owner_id: int
    created_at: datetime
    download_url: str


class AvatarOut(BaseModel):
    avatar_url: str
    sizes: dict[str, str] = Field(description="pixel size -> URL of that rendition")
