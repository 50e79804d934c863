"""Request/response shapes of files."""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.core.location import LocationOut

FileKind = Literal["photo", "voice"]


class FileOut(BaseModel):
    """An uploaded photo or voice note."""

    id: uuid.UUID = Field(
        description="The file's id. When the company already had these bytes, the existing "
        "file's id (which may differ from the `id` sent)."
    )
    kind: FileKind
    content_type: str = Field(
        description="Type of the stored copy, judged from the content (HEIC photos are "
        "stored as JPEG)."
    )
    size_bytes: int = Field(description="Size of the stored copy (what the download returns).")
    sha256: str = Field(
        description="SHA-256 (hex) of the uploaded bytes; identical uploads are one file. "
        "Photos are stored without metadata, so the download's own hash differs."
    )
    taken_at: datetime | None = Field(description="Capture time from the photo's EXIF (UTC).")
    taken_location: LocationOut | None = Field(
        description="Where the photo was taken, from its EXIF GPS."
    )
    download_url: str = Field(description="GET it with the same bearer token.")
    created_at: datetime
