"""Deleting one's own files (`DELETE /v1/files/{id}`, `POST /v1/files/batch-delete`).

Only the uploader deletes a file, and only while no record points at it: an attachment (a
check-in, follow-up, log, opportunity or payment — deleted records too, they may be restored)
or any other row with a foreign key to it (409 `file_in_use`). The stored bytes go with the
last file record of the company that shares them (identical bytes are stored once) — removed
only after the deleting transaction has committed (`remove_orphaned_bytes`, a background task
of the response), and only when no file record points at them by then: a rollback never leaves
a record without its bytes, and an upload of the same bytes meanwhile keeps them.
"""

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.errors import forbidden, not_found
from app.db import session_factory, table_of
from app.fieldwork.files.service import file_visibility
from app.fieldwork.files.storage import get_storage
from app.fieldwork.models import Attachment, StoredFile
from app.retention import errors
from app.retention.references import referenced


async def _in_use(session: AsyncSession, file: StoredFile) -> bool:
    attached = await session.scalar(
        select(
            exists().where(Attachment.file_id == file.id, Attachment.company_id == file.company_id)
        )
    )
    if attached:
        return True
    table = table_of(StoredFile)
    other = select(table.c.id).where(table.c.id == file.id, referenced(table, skip={"attachments"}))
    return await session.scalar(other) is not None


async def delete_files(
    session: AsyncSession, principal: Principal, file_ids: Sequence[uuid.UUID]
) -> tuple[list[uuid.UUID], list[str]]:
    """Delete these files of the caller, all or none: 404 for one the caller cannot see, 403
    for a colleague's, 409 `file_in_use` for an attached one. Returns the ids deleted and the
    storage keys no record uses any more (for `remove_orphaned_bytes` after the commit)."""
    ids = list(dict.fromkeys(file_ids))
    rows = {
        f.id: f
        for f in await session.scalars(
            select(StoredFile)
            .where(StoredFile.id.in_(ids), file_visibility(principal))
            .with_for_update(of=StoredFile)
        )
    }
    for file_id in ids:
        file = rows.get(file_id)
        if file is None:
            raise not_found("file")
        if file.uploaded_by != principal.user_id:
            raise forbidden("Only the uploader may delete a file.")
        if await _in_use(session, file):
            raise errors.file_in_use(f"File {file_id} is attached to a record: detach it first.")
    keys = {rows[i].storage_key for i in ids}
    await session.execute(delete(StoredFile).where(StoredFile.id.in_(ids)))
    still_used = set(
        await session.scalars(
            select(StoredFile.storage_key).where(
                StoredFile.company_id == principal.company_id, StoredFile.storage_key.in_(keys)
            )
        )
    )
    await session.flush()
    return ids, sorted(keys - still_used)


async def remove_orphaned_bytes(company_id: uuid.UUID, keys: Sequence[str]) -> None:
    """After the commit: remove the stored bytes of `keys` that no file record uses now."""
    if not keys:
        return
    async with session_factory()() as session:
        used = set(
            await session.scalars(
                select(StoredFile.storage_key).where(
                    StoredFile.company_id == company_id, StoredFile.storage_key.in_(list(keys))
                )
            )
        )
    storage = get_storage()
    for key in keys:
        if key not in used:
            await storage.delete(key)
