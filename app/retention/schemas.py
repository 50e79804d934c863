"""Bodies of the file deletes."""

import uuid

from pydantic import BaseModel, Field

from app.core.schemas import Strict

BATCH_DELETE_MAX = 100


class FileBatchDelete(Strict):
    file_ids: list[uuid.UUID] = Field(min_length=1, max_length=BATCH_DELETE_MAX)


class FileBatchDeleted(BaseModel):
    deleted: list[uuid.UUID] = Field(description="Every file named, deleted (all or none).")
