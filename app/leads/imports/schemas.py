"""Bodies of lead imports."""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

ImportStatus = Literal["queued", "running", "done", "failed"]


class ImportRowError(BaseModel):
    """One problem of one row: the row is not imported."""

    line: int = Field(description="The file's line where the row starts (the header is line 1).")
    field: str | None = Field(description="The lead field (`name`, `email`, `phone`…).")
    code: str = Field(
        description="`required`, `invalid_email`, `invalid_source`, `invalid_phone`, "
        "`too_long`, `invalid_text` or `duplicate`."
    )
    detail: str


class ImportOut(BaseModel):
    id: uuid.UUID
    kind: str
    status: ImportStatus
    pool_id: uuid.UUID | None
    file_name: str | None
    encoding: str | None = Field(description="`utf-8`, `utf-8-sig` (with BOM) or `gb18030` (GBK).")
    sha256: str
    created_by: uuid.UUID
    total_rows: int | None = Field(description="Data rows in the file (blank rows not counted).")
    done_rows: int = Field(description="Rows processed so far: progress is done_rows/total_rows.")
    imported: int
    failed: int = Field(description="Rows reported, not imported.")
    errors: list[ImportRowError] = Field(description="The first 1,000 row errors, by line.")
    errors_truncated: bool = Field(description="More errors exist than listed.")
    detail: str | None = Field(description="Why the import failed as a whole (status failed).")
    started_at: datetime | None
    finished_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ImportSummary(BaseModel):
    """An import in a list (without its errors)."""

    id: uuid.UUID
    status: ImportStatus
    pool_id: uuid.UUID | None
    file_name: str | None
    created_by: uuid.UUID
    total_rows: int | None
    done_rows: int
    imported: int
    failed: int
    started_at: datetime | None
    finished_at: datetime | None
    created_at: datetime
