"""The `purge` job: soft-deleted rows past their company's `restore_days` are removed for good.

Set-based and in batches (`BATCH` rows a statement, committed each, `SKIP LOCKED` so a restore
in flight wins), children first: follow-ups, work logs, draft contracts, opportunities,
contacts, then customers. A row still pointed at by a kept row (a customer with check-ins,
visit plans or tickets; an opportunity a contract names; a contract an approval names) stays deleted
and invisible — it is never half-removed. Their own history (ownership events, stage history,
contract lines, collaborators) goes with them (ON DELETE CASCADE), as do the attachment rows
of purged follow-ups, logs and opportunities (the files stay, for their uploader to delete);
feed posts stay, without their customer (`DETACHED`).
Running it again finds nothing more: idempotent.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    Numeric,
    Table,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    not_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.approvals.models import Approval
from app.core.clock import now
from app.customers.models import Contact, Customer
from app.db import session_factory, table_of
from app.feed.models import FeedItem
from app.fieldwork.models import Attachment, Followup, WorkLog
from app.money.models import Contract
from app.org.models import Company
from app.org.settings import CompanySettings
from app.pipeline.models import Opportunity
from app.retention.references import referenced

BATCH = 1000
DEFAULT_DAYS = CompanySettings.model_fields["restore_days"].default

# (table, the attachments' record_type of its rows, or None), children before parents.
PURGED: tuple[tuple[Any, str | None], ...] = (
    (Followup, "followup"),
    (WorkLog, "log"),
    (Contract, None),
    (Opportunity, "opportunity"),
    (Contact, None),
    (Customer, None),
)


# Kept rows that only mention a purged one lose the mention: the team's feed keeps its posts.
DETACHED: dict[str, tuple[tuple[Table, str], ...]] = {
    "customers": ((table_of(FeedItem), "customer_id"),),
}


def _restore_days() -> Any:
    """SQL: the company's `restore_days` (the default when unset or not a number, as
    `CompanySettings.of` reads it), within 1–3650."""
    stored = Company.settings["restore_days"]
    return case(
        (
            func.jsonb_typeof(stored) == "number",
            func.greatest(1, func.least(3650, cast(cast(stored.astext, Numeric), Integer))),
        ),
        else_=DEFAULT_DAYS,
    )


def _candidates(model: Any, at: datetime) -> Any:
    """The ids of one batch, locked (skipping rows a restore holds)."""
    table: Table = table_of(model)
    days = func.make_interval(0, 0, 0, _restore_days())
    detached = {t.name for t, _ in DETACHED.get(table.name, ())}
    candidates = (
        select(table.c.id)
        .join(Company, Company.id == table.c.company_id)
        .where(
            table.c.deleted_at.is_not(None),
            table.c.deleted_at < type_coerce(at, table.c.deleted_at.type) - days,
            not_(referenced(table, skip=detached)),
        )
        .limit(BATCH)
        .with_for_update(of=table, skip_locked=True)
    )
    if model is Contract:
        candidates = candidates.where(
            not_(
                exists().where(
                    and_(Approval.record_type == "contract", Approval.record_id == table.c.id)
                )
            )
        )
    return candidates


async def purge_once(session: AsyncSession, at: datetime, counts: dict[str, int]) -> None:
    """Every batch of every table, committing each."""
    for model, record_type in PURGED:
        table = table_of(model)
        name = table.name
        counts.setdefault(f"{name}_purged", 0)
        candidates = _candidates(model, at)
        while True:
            ids = list((await session.execute(candidates)).scalars())
            if ids:
                for child, column in DETACHED.get(name, ()):
                    await session.execute(
                        update(child).where(child.c[column].in_(ids)).values({column: None})
                    )
                if record_type is not None:
                    await session.execute(
                        delete(Attachment).where(
                            Attachment.record_type == record_type, Attachment.record_id.in_(ids)
                        )
                    )
                await session.execute(delete(table).where(table.c.id.in_(ids)))
            await session.commit()
            counts[f"{name}_purged"] += len(ids)
            if len(ids) < BATCH:
                break


async def purge(counts: dict[str, int]) -> None:
    """The job body."""
    async with session_factory()() as session:
        await purge_once(session, now(), counts)
    counts["examined"] = sum(v for k, v in counts.items() if k.endswith("_purged"))
