"""Files: photos and voice notes — upload once per company, visibility, attachments to records.

A file is visible to its uploader, to whoever can see a record it is attached to, and to
the company's admins. Identical bytes are stored once per company (the storage key is
`<company>/<sha256>`), but every uploader gets a file record of their own (unique per company,
sha256 and uploader): uploading bytes a colleague has never grants access to the colleague's
file, nor tells that it exists (201 either way). Several records may share one stored object,
so a future delete of a record must leave the bytes while another record points at them.
"""

import asyncio
import hashlib
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.attendance.models import AttendanceRecord
from app.attendance.visibility import attendance_visibility
from app.auth.principal import Principal
from app.config import get_settings
from app.core import client_ids
from app.core.clock import now
from app.core.errors import not_found
from app.fieldwork import errors
from app.fieldwork.files import media
from app.fieldwork.files.storage import get_storage
from app.fieldwork.models import Attachment, Checkin, Followup, StoredFile, WorkLog
from app.fieldwork.visibility import log_visibility, record_visibility
from app.money.models import Payment
from app.money.visibility import payment_visibility
from app.org.models import Company
from app.pipeline.models import Opportunity
from app.pipeline.visibility import opportunity_visibility
from app.tickets.models import Ticket
from app.tickets.visibility import ticket_visibility

# Record types files attach to: the table, and the rule deciding who sees its (not deleted)
# rows — and so the files attached to them.
RECORD_TABLES: dict[str, tuple[Any, Callable[[Principal], ColumnElement[bool]]]] = {
    "checkin": (Checkin, lambda principal: record_visibility(principal, Checkin)),
    "followup": (Followup, lambda principal: record_visibility(principal, Followup)),
    "log": (WorkLog, log_visibility),
    # Attached by app.pipeline.opportunities (evidence, file answers); seen like the opportunity.
    "opportunity": (Opportunity, opportunity_visibility),
    # Attached by app.money.payments (receipts); seen like the payment (its contract).
    "payment": (Payment, payment_visibility),
    # Attached by app.attendance (clock-in photos); seen like the record.
    "attendance": (AttendanceRecord, attendance_visibility),
    # Attached by app.tickets (photos of the problem); seen like the ticket.
    "ticket": (Ticket, ticket_visibility),
}
RECORD_TYPES = tuple(RECORD_TABLES)
READ_CHUNK_BYTES = 64 * 1024

Reader = Callable[[int], Awaitable[bytes]]


async def read_capped(read: Reader, cap: int) -> bytes:
    """The whole upload, reading at most cap + 1 bytes; 413 `file_too_large` past the cap."""
    chunks: list[bytes] = []
    total = 0
    while total <= cap:
        chunk = await read(min(READ_CHUNK_BYTES, cap + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > cap:
        raise errors.file_too_large(cap)
    return b"".join(chunks)


def file_visibility(principal: Principal) -> ColumnElement[bool]:
    """The one visibility rule for files (get, download, attach)."""
    same_company = StoredFile.company_id == principal.company_id
    if principal.is_admin:
        return same_company
    granted = [StoredFile.uploaded_by == principal.user_id]
    for record_type, (table, visibility) in RECORD_TABLES.items():
        conditions = [
            Attachment.file_id == StoredFile.id,
            Attachment.record_type == record_type,
            table.id == Attachment.record_id,
            visibility(principal),
        ]
        if hasattr(table, "deleted_at"):  # check-ins are never deleted
            conditions.append(table.deleted_at.is_(None))
        granted.append(exists().where(*conditions))
    return same_company & or_(*granted)


async def _own_by_digest(
    session: AsyncSession, principal: Principal, digest: str
) -> StoredFile | None:
    """The caller's own file of these bytes (a retry, or the same bytes sent again)."""
    return await session.scalar(
        select(StoredFile).where(
            StoredFile.company_id == principal.company_id,
            StoredFile.sha256 == digest,
            StoredFile.uploaded_by == principal.user_id,
        )
    )


async def _stored_bytes(
    session: AsyncSession, principal: Principal, digest: str
) -> StoredFile | None:
    """Any file of the company with these bytes: what is stored for them (never returned to
    the caller, only copied from)."""
    return await session.scalar(
        select(StoredFile)
        .where(StoredFile.company_id == principal.company_id, StoredFile.sha256 == digest)
        .limit(1)
    )


async def _prepare(
    session: AsyncSession, principal: Principal, data: bytes, media_type: media.MediaType
) -> tuple[bytes, str, media.PhotoMetadata]:
    """The bytes to store, their content type and (photos) the EXIF facts."""
    if media_type.kind != "photo":
        return data, media_type.content_type, media.PhotoMetadata()
    time_zone = await session.scalar(
        select(Company.time_zone).where(Company.id == principal.company_id)
    )
    try:
        photo = await asyncio.to_thread(
            media.prepare_photo, data, media_type, ZoneInfo(time_zone or "Asia/Shanghai")
        )
    except media.ImageTooLarge as exc:
        raise errors.image_too_large(media.MAX_IMAGE_PIXELS) from exc
    except media.UnreadableImage as exc:
        raise errors.unsupported_file_type(
            f"The {media_type.content_type} photo could not be decoded."
        ) from exc
    return photo.content, photo.content_type, photo.metadata


async def upload_file(
    session: AsyncSession,
    principal: Principal,
    read: Reader,
    filename: str | None,
    file_id: uuid.UUID | None = None,
) -> tuple[StoredFile, bool]:
    """Store an upload: (the caller's file, created). Bytes the caller uploaded before return
    that file; bytes only a colleague uploaded get a new file of the caller's, sharing the
    stored copy."""
    # A retry (same id, same bytes) is found by its bytes; an id taken by other bytes is 409.
    cap = get_settings().max_upload_bytes
    data = await read_capped(read, cap)
    media_type = media.sniff(data)
    if media_type is None:
        raise errors.unsupported_file_type()
    digest = hashlib.sha256(data).hexdigest()
    own = await _own_by_digest(session, principal, digest)
    if own is not None:
        return own, False
    if file_id is not None and await session.get(StoredFile, file_id) is not None:
        raise client_ids.id_conflict()
    stored = await _insert(session, principal, data, media_type, digest, filename, file_id)
    if stored is None:  # lost a race: the same bytes, or the same id, just got stored
        own = await _own_by_digest(session, principal, digest)
        if own is None:
            raise client_ids.id_conflict()
        return own, False
    await session.flush()
    return stored, True


async def _insert(
    session: AsyncSession,
    principal: Principal,
    data: bytes,
    media_type: media.MediaType,
    digest: str,
    filename: str | None,
    file_id: uuid.UUID | None,
) -> StoredFile | None:
    """Write the bytes (unless the company has them), then the caller's row (None when a
    concurrent upload won the insert)."""
    known = await _stored_bytes(session, principal, digest)
    if known is not None:
        # The same bytes were prepared and stored before: the same stored copy and facts.
        values: dict[str, Any] = {
            "kind": known.kind,
            "content_type": known.content_type,
            "size_bytes": known.size_bytes,
            "storage_key": known.storage_key,
            "taken_at": known.taken_at,
            "taken_latitude": known.taken_latitude,
            "taken_longitude": known.taken_longitude,
        }
    else:
        content, content_type, metadata = await _prepare(session, principal, data, media_type)
        key = f"{principal.company_id}/{digest}"
        storage = get_storage()
        # Content-addressed: the bytes are on disk before any row points at them.
        if not await storage.exists(key):
            await storage.put(key, content)
        values = {
            "kind": media_type.kind,
            "content_type": content_type,
            "size_bytes": len(content),
            "storage_key": key,
            "taken_at": metadata.taken_at,
            "taken_latitude": metadata.latitude,
            "taken_longitude": metadata.longitude,
        }
    return await session.scalar(
        insert(StoredFile)
        .values(
            id=file_id or uuid.uuid4(),
            company_id=principal.company_id,
            uploaded_by=principal.user_id,
            sha256=digest,
            original_name=filename[:255] if filename else None,
            created_at=now(),
            **values,
        )
        .on_conflict_do_nothing()
        .returning(StoredFile)
    )


async def get_file(session: AsyncSession, principal: Principal, file_id: uuid.UUID) -> StoredFile:
    """A file the caller may see, or 404."""
    stored = await session.scalar(
        select(StoredFile).where(StoredFile.id == file_id, file_visibility(principal))
    )
    if stored is None:
        raise not_found("file")
    return stored


async def open_file(stored: StoredFile) -> bytes:
    """The stored bytes of a file obtained through `get_file`."""
    return await get_storage().get(stored.storage_key)


async def attach_files(
    session: AsyncSession,
    principal: Principal,
    file_ids: Sequence[uuid.UUID],
    record_type: str,
    record_id: uuid.UUID,
    *,
    field: str = "file_ids",
) -> None:
    """Attach visible files to a record in order (idempotent; the caller commits), else 422."""
    # Every id the caller may not see is one `unknown_file` error at body.<field>.<index>.
    if record_type not in RECORD_TYPES:
        raise ValueError(f"files cannot be attached to {record_type!r}")
    ordered = list(dict.fromkeys(file_ids))
    if not ordered:
        return
    found = set(
        await session.scalars(
            select(StoredFile.id).where(StoredFile.id.in_(ordered), file_visibility(principal))
        )
    )
    missing = [(index, file_id) for index, file_id in enumerate(file_ids) if file_id not in found]
    if missing:
        raise errors.unknown_file(field, missing)
    await session.execute(
        insert(Attachment)
        .values(
            [
                {
                    "file_id": file_id,
                    "record_type": record_type,
                    "record_id": record_id,
                    "company_id": principal.company_id,
                    "position": position,
                }
                for position, file_id in enumerate(ordered)
            ]
        )
        .on_conflict_do_nothing()
    )


async def files_for(
    session: AsyncSession, record_type: str, record_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """File ids attached to each of `record_ids` (in attachment order), in one query."""
    if not record_ids:
        return {}
    rows = await session.execute(
        select(Attachment.record_id, Attachment.file_id)
        .where(Attachment.record_type == record_type, Attachment.record_id.in_(record_ids))
        .order_by(Attachment.record_id, Attachment.position, Attachment.file_id)
    )
    attached: dict[uuid.UUID, list[uuid.UUID]] = {}
    for record_id, file_id in rows:
        attached.setdefault(record_id, []).append(file_id)
    return attached
