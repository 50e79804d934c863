"""The import job's body: claim a queued import, then its rows in batches, each batch in its
own transaction.

* Claim: `UPDATE imports SET status = 'running' … WHERE id = (SELECT … FOR UPDATE SKIP
  LOCKED)`: one worker per import. An import left `running` with no progress for
  `STALLED_AFTER` (its worker died) is claimed again and resumes.
* A batch (`BATCH` rows) locks the import row, checks that its progress is still where this
  run left it (a second run of the same import stops there), and then, in one transaction:
  the duplicate check of its valid rows against the company's leads and customers (two
  set-based statements, whatever the batch size), the leads (one `INSERT … SELECT FROM
  unnest(…)`; ids are uuid5(import id, line) and `ON CONFLICT DO NOTHING`, so a batch run
  twice never makes a lead twice), their `created` events and `lead.created` webhooks (for
  the rows that insert returned), the pool's automatic assignment of those leads, and the
  progress (`done_rows`, counts, the batch's row errors).
* A row is imported whole or reported: its checks (parsing.py) and duplicates decide before
  anything is written.
* When the rows are done the import is `done` and its file is dropped.
"""

import json
import logging
import time
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import Uuid, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import now
from app.db import session_factory
from app.leads.imports import parsing
from app.leads.models import LeadPool
from app.leads.pools.assignment import assign_new_leads
from app.notifications.webhooks.service import enqueue_events

log = logging.getLogger("outfield.imports")
BATCH = 1000
STALLED_AFTER = timedelta(minutes=10)
ERRORS_KEPT = 1000
# The periodic run stops picking up new imports after this long (arq's job timeout is 600 s).
RUN_BUDGET_S = 480.0
_LEAD_NAMESPACE = uuid.UUID("5d1f0a7e-8c1b-4f7e-9a55-0c3f2d6b9e41")

_CLAIM_NEXT = text("""
UPDATE imports AS i SET status = 'running', started_at = coalesce(i.started_at, :at),
       updated_at = :at
WHERE i.id = (
    SELECT id FROM imports
    WHERE status = 'queued' OR (status = 'running' AND updated_at < :stalled)
    ORDER BY updated_at
    LIMIT 1
    FOR UPDATE SKIP LOCKED)
RETURNING i.id
""")
_CLAIM_ONE = text("""
UPDATE imports AS i SET status = 'running', started_at = coalesce(i.started_at, :at),
       updated_at = :at
WHERE i.id = (
    SELECT id FROM imports
    WHERE id = :id AND (status = 'queued' OR (status = 'running' AND updated_at < :stalled))
    FOR UPDATE SKIP LOCKED)
RETURNING i.id
""").bindparams(bindparam("id", type_=Uuid()))
_LOAD = text("""
SELECT id, company_id, created_by, pool_id, content, done_rows FROM imports WHERE id = :id
""").bindparams(bindparam("id", type_=Uuid()))
_LOCK_PROGRESS = text("""
SELECT done_rows FROM imports WHERE id = :id AND status = 'running' FOR UPDATE
""").bindparams(bindparam("id", type_=Uuid()))
_PROGRESS = text("""
UPDATE imports
SET done_rows = :done_rows, imported = imported + :imported, failed = failed + :failed,
    errors = CASE WHEN jsonb_array_length(errors) >= :kept THEN errors
                  ELSE errors || CAST(:errors AS jsonb) END,
    updated_at = :at
WHERE id = :id
""").bindparams(bindparam("id", type_=Uuid()))
_FINISH = text("""
UPDATE imports SET status = :status, detail = :detail, content = NULL, finished_at = :at,
       updated_at = :at
WHERE id = :id AND status = 'running'
""").bindparams(bindparam("id", type_=Uuid()))

# Existing leads (other than this import's own) and customers that share a key of the batch.
_LEAD_MATCHES = text("""
SELECT phone_normalized, email_normalized, company_name_normalized FROM leads
WHERE company_id = :company_id AND deleted_at IS NULL
  AND import_id IS DISTINCT FROM :import_id
  AND (phone_normalized = ANY(CAST(:phones AS text[]))
       OR email_normalized = ANY(CAST(:emails AS text[]))
       OR company_name_normalized = ANY(CAST(:companies AS text[])))
""").bindparams(bindparam("company_id", type_=Uuid()), bindparam("import_id", type_=Uuid()))
_CUSTOMER_MATCHES = text("""
SELECT phone_normalized, name_normalized FROM customers
WHERE company_id = :company_id AND deleted_at IS NULL
  AND (phone_normalized = ANY(CAST(:phones AS text[]))
       OR name_normalized = ANY(CAST(:companies AS text[])))
""").bindparams(bindparam("company_id", type_=Uuid()))

_FIELDS = (
    "name",
    "title",
    "company_name",
    "company_name_normalized",
    "phone",
    "phone_normalized",
    "email",
    "email_normalized",
    "source",
    "campaign",
    "region",
    "industry",
    "address",
    "note",
)
_INSERT_LEADS = text("""
INSERT INTO leads (id, company_id, pool_id, name, title, company_name, company_name_normalized,
                   phone, phone_normalized, email, email_normalized, source, campaign, region,
                   industry, address, note, status, import_id, created_by, version, created_at,
                   updated_at)
SELECT r.id, :company_id, :pool_id, r.name, r.title, r.company_name, r.company_name_normalized,
       r.phone, r.phone_normalized, r.email, r.email_normalized, r.source, r.campaign, r.region,
       r.industry, r.address, r.note, 'new', :import_id, :created_by, 1, :at, :at
FROM unnest(CAST(:ids AS uuid[]), CAST(:name AS text[]), CAST(:title AS text[]),
            CAST(:company_name AS text[]), CAST(:company_name_normalized AS text[]),
            CAST(:phone AS text[]), CAST(:phone_normalized AS text[]), CAST(:email AS text[]),
            CAST(:email_normalized AS text[]), CAST(:source AS text[]),
            CAST(:campaign AS text[]), CAST(:region AS text[]), CAST(:industry AS text[]),
            CAST(:address AS text[]), CAST(:note AS text[]))
     AS r(id, name, title, company_name, company_name_normalized, phone, phone_normalized,
          email, email_normalized, source, campaign, region, industry, address, note)
ON CONFLICT DO NOTHING
RETURNING id, name, company_name, source, campaign
""").bindparams(
    bindparam("company_id", type_=Uuid()),
    bindparam("pool_id", type_=Uuid()),
    bindparam("import_id", type_=Uuid()),
    bindparam("created_by", type_=Uuid()),
)
_CREATED_EVENTS = text("""
INSERT INTO lead_events (id, company_id, lead_id, pool_id, kind, user_id, actor_id, reason, at)
SELECT gen_random_uuid(), :company_id, e.lead_id, :pool_id, 'created', NULL, :actor_id,
       'import', :at
FROM unnest(CAST(:lead_ids AS uuid[])) AS e(lead_id)
""").bindparams(
    bindparam("company_id", type_=Uuid()),
    bindparam("pool_id", type_=Uuid()),
    bindparam("actor_id", type_=Uuid()),
)


def lead_id(import_id: uuid.UUID, line: int) -> uuid.UUID:
    """The lead a row of an import makes: the same on every run."""
    return uuid.uuid5(_LEAD_NAMESPACE, f"{import_id}:{line}")


def _claim_params(import_id: uuid.UUID | None = None) -> dict[str, Any]:
    at = now()
    params: dict[str, Any] = {"at": at, "stalled": at - STALLED_AFTER}
    if import_id is not None:
        params["id"] = import_id
    return params


async def claim(import_id: uuid.UUID | None = None) -> uuid.UUID | None:
    """Take a queued (or stalled) import — this one, or the oldest waiting — for this run."""
    async with session_factory()() as session, session.begin():
        statement = _CLAIM_NEXT if import_id is None else _CLAIM_ONE
        claimed = await session.scalar(statement, _claim_params(import_id))
    return claimed if isinstance(claimed, uuid.UUID) else None


async def _matches(
    session: AsyncSession, company_id: uuid.UUID, import_id: uuid.UUID, rows: list[parsing.Row]
) -> None:
    """Mark the valid rows that share a key with an existing lead or customer."""
    phones = sorted({r.phone_key for r in rows if r.phone_key})
    emails = sorted({r.email_key for r in rows if r.email_key})
    companies = sorted({r.company_key for r in rows if r.company_key})
    if not (phones or emails or companies):
        return
    keys = {"company_id": company_id, "phones": phones, "companies": companies}
    lead_hits: dict[str, set[str]] = {"phone": set(), "email": set(), "company_name": set()}
    for phone, email, company in (
        await session.execute(_LEAD_MATCHES, {**keys, "emails": emails, "import_id": import_id})
    ).all():
        lead_hits["phone"].add(phone)
        lead_hits["email"].add(email)
        lead_hits["company_name"].add(company)
    customer_hits: dict[str, set[str]] = {"phone": set(), "company_name": set()}
    for phone, name in (await session.execute(_CUSTOMER_MATCHES, keys)).all():
        customer_hits["phone"].add(phone)
        customer_hits["company_name"].add(name)
    labels = {"phone": "phone", "email": "e-mail", "company_name": "company name"}
    for row in rows:
        row_keys = (
            ("phone", row.phone_key),
            ("email", row.email_key),
            ("company_name", row.company_key),
        )
        for name, key in row_keys:
            if key and key in lead_hits[name]:
                row.fail(name, "duplicate", f"A lead with this {labels[name]} exists.")
                break
            if key and key in customer_hits.get(name, ()):
                row.fail(name, "duplicate", f"A customer with this {labels[name]} exists.")
                break


async def _announce(
    session: AsyncSession,
    company_id: uuid.UUID,
    pool_id: uuid.UUID,
    import_id: uuid.UUID,
    inserted: list[Any],
) -> None:
    """The `created` events and `lead.created` webhooks of the leads this batch inserted."""
    at = now()
    await session.execute(
        _CREATED_EVENTS,
        {
            "company_id": company_id,
            "pool_id": pool_id,
            "actor_id": None,
            "at": at,
            "lead_ids": [row.id for row in inserted],
        },
    )
    await enqueue_events(
        session,
        "lead.created",
        [
            (
                company_id,
                uuid.uuid5(row.id, "lead.created"),
                {
                    "lead_id": row.id,
                    "name": row.name,
                    "company_name": row.company_name,
                    "source": row.source,
                    "campaign": row.campaign,
                    "pool_id": pool_id,
                    "owner_id": None,
                    "import_id": import_id,
                },
            )
            for row in inserted
        ],
        at,
    )


async def _batch(
    job: Any, pool: LeadPool | None, rows: list[parsing.Row], start: int, end: int
) -> bool:
    """Rows [start, end) in one transaction; False when another run moved the progress."""
    async with session_factory()() as session, session.begin():
        done = await session.scalar(_LOCK_PROGRESS, {"id": job.id})
        if done != start:
            return False
        batch = rows[start:end]
        valid = [row for row in batch if row.ok]
        await _matches(session, job.company_id, job.id, valid)
        valid = [row for row in valid if row.ok]
        at = now()
        inserted: list[Any] = []
        if valid:
            columns: dict[str, list[Any]] = {f: [] for f in _FIELDS}
            for row in valid:
                values = row.values
                for f in (
                    "name",
                    "title",
                    "company_name",
                    "phone",
                    "email",
                    "source",
                    "campaign",
                    "region",
                    "industry",
                    "address",
                    "note",
                ):
                    columns[f].append(values.get(f))
                columns["company_name_normalized"].append(row.company_key)
                columns["phone_normalized"].append(row.phone_key)
                columns["email_normalized"].append(row.email_key)
            inserted = list(
                (
                    await session.execute(
                        _INSERT_LEADS,
                        {
                            "company_id": job.company_id,
                            "pool_id": job.pool_id,
                            "import_id": job.id,
                            "created_by": job.created_by,
                            "at": at,
                            "ids": [lead_id(job.id, row.line) for row in valid],
                            **columns,
                        },
                    )
                ).all()
            )
        if inserted:
            await _announce(session, job.company_id, job.pool_id, job.id, inserted)
            if pool is not None:
                await assign_new_leads(session, job.created_by, pool, [row.id for row in inserted])
        failed = [row for row in batch if not row.ok]
        row_errors = [error for row in failed for error in row.errors]
        await session.execute(
            _PROGRESS,
            {
                "id": job.id,
                "done_rows": end,
                "imported": len(valid),
                "failed": len(failed),
                "kept": ERRORS_KEPT,
                "errors": json.dumps(row_errors[:ERRORS_KEPT], ensure_ascii=False),
                "at": now(),
            },
        )
    return True


async def _finish(import_id: uuid.UUID, status: str, detail: str | None = None) -> None:
    async with session_factory()() as session, session.begin():
        await session.execute(
            _FINISH, {"id": import_id, "status": status, "detail": detail, "at": now()}
        )


async def run_import(import_id: uuid.UUID, *, batch_size: int = BATCH) -> dict[str, int]:
    """Process a claimed import from where its progress stands; returns counts."""
    async with session_factory()() as session:
        job = (await session.execute(_LOAD, {"id": import_id})).one()
        # Closing the session leaves the pool detached with its columns loaded.
        pool = await session.get(LeadPool, job.pool_id) if job.pool_id is not None else None
    if job.content is None:
        await _finish(import_id, "failed", "The file is no longer stored.")
        return {"rows": 0}
    try:
        parsed = parsing.parse(bytes(job.content))
    except (parsing.Unreadable, parsing.TooManyRows) as exc:
        await _finish(import_id, "failed", str(exc) or "Too many rows.")
        return {"rows": 0}
    rows = parsed.rows
    start = job.done_rows
    processed = 0
    while start < len(rows):
        end = min(start + batch_size, len(rows))
        if not await _batch(job, pool, rows, start, end):
            log.info("import taken over by another run", extra={"import_id": str(import_id)})
            return {"rows": processed}
        processed += end - start
        start = end
    await _finish(import_id, "done")
    return {"rows": processed}


async def run_pending(counts: dict[str, int]) -> None:
    """The job body: run queued (and stalled) imports, oldest first, until none is left or
    the run's time budget is spent."""
    began = time.monotonic()
    while time.monotonic() - began < RUN_BUDGET_S:
        import_id = await claim()
        if import_id is None:
            return
        try:
            done = await run_import(import_id)
        except Exception:
            # Left `running`: after STALLED_AFTER a later run resumes it from its progress.
            log.exception("import failed", extra={"import_id": str(import_id)})
            counts["failed"] = counts.get("failed", 0) + 1
            continue
        counts["imports"] = counts.get("imports", 0) + 1
        counts["rows"] = counts.get("rows", 0) + done["rows"]
