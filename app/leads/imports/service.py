"""Lead imports: accept a CSV file (checked now: encoding, header, row count), queue it for the
worker, and show its progress.

The worker (`app.leads.imports.job`) does the rows. The API hands it the import in two ways:
an arq job queued after the request committed, and the worker's periodic pick-up of queued
imports — so an import whose enqueue was lost (Redis down, a crash between commit and
enqueue) still runs within a minute.
"""

import hashlib
import logging
import uuid
from typing import Any

from sqlalchemy import Select, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core import limits
from app.core.clock import now
from app.core.errors import forbidden, not_found
from app.core.pagination import PageParams, make_page, paginate
from app.db import table_of
from app.leads import errors
from app.leads.imports import parsing
from app.leads.models import ImportJob, LeadPool
from app.leads.visibility import pool_visibility
from app.ops.service import enqueue_job

log = logging.getLogger("outfield.imports")
JOB_NAME = "imports"
ERRORS_SHOWN = 1000

# A new import, unless the same user's same file is queued or running (then: that one).
_INSERT = text("""
INSERT INTO imports (id, company_id, kind, created_by, pool_id, file_name, encoding, content,
                     sha256, status, total_rows, done_rows, imported, failed, errors,
                     created_at, updated_at)
VALUES (:id, :company_id, 'leads', :created_by, :pool_id, :file_name, :encoding, :content,
        :sha256, 'queued', :total_rows, 0, 0, 0, '[]'::jsonb, :at, :at)
ON CONFLICT (created_by, sha256, company_id) WHERE status IN ('queued', 'running') DO NOTHING
RETURNING id
""")
_ACTIVE = text("""
SELECT id FROM imports
WHERE company_id = :company_id AND created_by = :created_by AND sha256 = :sha256
  AND status IN ('queued', 'running')
""")
_I = table_of(ImportJob).c
# Everything but the file itself.
_COLUMNS = [column for column in table_of(ImportJob).c if column.name != "content"]


def _may_import(principal: Principal) -> None:
    if not (principal.is_admin or principal.is_manager):
        raise forbidden("Only admins and managers import leads.")


async def _pool(session: AsyncSession, principal: Principal, pool_id: uuid.UUID | None) -> LeadPool:
    """The named pool (visible to the caller), or the company's first one."""
    stmt = select(LeadPool).where(pool_visibility(principal))
    if pool_id is not None:
        pool = (await session.execute(stmt.where(LeadPool.id == pool_id))).scalar_one_or_none()
        if pool is None:
            raise not_found("lead pool")
        return pool
    pool = (
        await session.execute(stmt.order_by(LeadPool.created_at, LeadPool.id).limit(1))
    ).scalar_one_or_none()
    if pool is None:
        raise errors.no_lead_pool("Name a lead pool (`pool_id`); none is visible to you yet.")
    return pool


async def create_import(
    session: AsyncSession,
    principal: Principal,
    content: bytes,
    file_name: str | None,
    pool_id: uuid.UUID | None,
) -> tuple[dict[str, Any], bool]:
    """Queue an import of `content`; returns (the import, created). The same file posted again
    by the same user while it is queued or running is that import (created False)."""
    _may_import(principal)
    if len(content) > limits.IMPORT_BYTES_MAX:
        raise errors.import_file_too_large(limits.IMPORT_BYTES_MAX)
    pool = await _pool(session, principal, pool_id)
    sha256 = hashlib.sha256(content).hexdigest()
    keys = {"company_id": principal.company_id, "created_by": principal.user_id, "sha256": sha256}
    existing = await session.scalar(_ACTIVE, keys)
    if existing is not None:
        return await get_import(session, principal, existing), False
    try:
        total, encoding = parsing.count_rows(content)
    except parsing.TooManyRows as exc:
        raise errors.import_too_large(limits.IMPORT_ROWS_MAX) from exc
    except parsing.Unreadable as exc:
        raise errors.import_unreadable(str(exc)) from exc
    new_id = await session.scalar(
        _INSERT,
        {
            **keys,
            "id": uuid.uuid4(),
            "pool_id": pool.id,
            "file_name": file_name,
            "encoding": encoding,
            "content": content,
            "total_rows": total,
            "at": now(),
        },
    )
    created = new_id is not None
    if new_id is None:  # a concurrent post of the same file got there first
        new_id = await session.scalar(_ACTIVE, keys)
        if new_id is None:  # … and has finished meanwhile: queue this one after all
            return await create_import(session, principal, content, file_name, pool_id)
    return await get_import(session, principal, new_id), created


def _visible(principal: Principal) -> Select[Any]:
    stmt = select(*_COLUMNS).where(_I.company_id == principal.company_id)
    if not principal.is_admin:
        stmt = stmt.where(_I.created_by == principal.user_id)
    return stmt


async def get_import(
    session: AsyncSession, principal: Principal, import_id: uuid.UUID
) -> dict[str, Any]:
    """The import (its creator and admins see it), with its first 1,000 errors."""
    row = (await session.execute(_visible(principal).where(_I.id == import_id))).one_or_none()
    if row is None:
        raise not_found("import")
    found = dict(row._mapping)
    found_errors = found["errors"] or []
    found["errors"] = found_errors[:ERRORS_SHOWN]
    found["errors_truncated"] = len(found_errors) > ERRORS_SHOWN or (
        # The job keeps only the first errors: more rows failed than are listed.
        found["failed"] > len({e["line"] for e in found_errors})
    )
    return found


async def list_imports(
    session: AsyncSession, principal: Principal, params: PageParams
) -> tuple[list[Any], str | None]:
    """The caller's imports (admins: the company's), newest first."""
    columns = [c for c in _COLUMNS if c.name not in ("errors", "detail")]
    stmt = select(*columns).where(_I.company_id == principal.company_id)
    if not principal.is_admin:
        stmt = stmt.where(_I.created_by == principal.user_id)
    rows = list((await session.execute(paginate(stmt, _I.created_at, _I.id, params))).all())
    return make_page(rows, params)


async def enqueue(import_id: uuid.UUID) -> None:
    """After commit: ask the worker to run queued imports now. A failure is only logged —
    the worker's periodic pick-up runs the import anyway."""
    try:
        await enqueue_job(JOB_NAME)
    except Exception as exc:  # noqa: BLE001 - the pick-up is the safety net
        log.warning("import enqueue failed", extra={"import_id": str(import_id), "error": str(exc)})
