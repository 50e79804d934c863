"""The period close (the `targets` job's body): every live target whose period has ended in its
company's time (`ends_on` — the day after the last — is today or earlier there) and has no
snapshot gets `snapshot_actual`, `snapshot_rate` and `snapshot_at`, once.

Batched by (company, period): one `measures.actuals` call per company-period for all its
targets and measures, then one conditional UPDATE (`WHERE snapshot_at IS NULL`) for them, in a
short transaction of its own. A second run, a concurrent worker or a run killed half-way
writes nothing twice; a record edited after the close (a contract signed late, a check-in
deleted) changes the live actual, never the snapshot.
"""

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import Numeric, Uuid

from app.core.clock import now
from app.db import session_factory
from app.org.models import Company
from app.org.settings import CompanySettings
from app.targets import measures
from app.targets.models import Target
from app.targets.progress import ratio
from app.targets.service import figure, subject_actual, subject_users

# Ended somewhere: no zone is more than 14 hours ahead of UTC (the index's range bound).
AHEAD = timedelta(hours=14)

DUE = text("""
SELECT DISTINCT t.company_id, t.starts_on, t.ends_on
FROM targets AS t JOIN companies AS c ON c.id = t.company_id
WHERE t.snapshot_at IS NULL AND t.deleted_at IS NULL
  AND t.ends_on <= :latest
  AND t.ends_on <= CAST(timezone(c.time_zone, CAST(:at AS timestamptz)) AS date)
ORDER BY t.company_id, t.ends_on, t.starts_on
""")
CLOSE = text("""
UPDATE targets AS t
   SET snapshot_actual = v.actual, snapshot_rate = v.rate, snapshot_at = :at
  FROM unnest(:ids, :actuals, :rates) AS v(id, actual, rate)
 WHERE t.company_id = :company AND t.id = v.id
   AND t.snapshot_at IS NULL AND t.deleted_at IS NULL
RETURNING t.id
""").bindparams(
    bindparam("ids", type_=ARRAY(Uuid())),
    bindparam("actuals", type_=ARRAY(Numeric(16, 2))),
    bindparam("rates", type_=ARRAY(Numeric(12, 4))),
)


async def close_period(
    session: AsyncSession,
    company_id: uuid.UUID,
    settings: CompanySettings,
    paths: dict[uuid.UUID, str],
    period: tuple[date, date],
    at: datetime,
) -> int:
    """Snapshot the open targets of one company-period; commits; returns how many."""
    start, end = period
    targets = list(
        (
            await session.execute(
                select(Target).where(
                    Target.company_id == company_id,
                    Target.starts_on == start,
                    Target.ends_on == end,
                    Target.snapshot_at.is_(None),
                    Target.deleted_at.is_(None),
                )
            )
        ).scalars()
    )
    if not targets:
        await session.commit()
        return 0
    zone = settings.time_zone
    users = await subject_users(
        session, company_id, [(t.subject, t.subject_id) for t in targets], paths, start, end, zone
    )
    facts = measures.Actuals(
        await measures.actuals(
            session, company_id, {t.measure for t in targets}, start, end, zone, user_ids=users
        ),
        paths,
    )
    actuals: list[Decimal] = []
    rates: list[Decimal | None] = []
    for target in targets:
        actual = figure(
            target.measure,
            subject_actual(facts, target.subject, target.subject_id, target.measure, paths),
        )
        actuals.append(actual)
        rates.append(ratio(actual, target.value))
    closed = (
        await session.execute(
            CLOSE,
            {
                "at": at,
                "company": company_id,
                "ids": [t.id for t in targets],
                "actuals": actuals,
                "rates": rates,
            },
        )
    ).all()
    await session.commit()
    return len(closed)


async def close_periods(counts: dict[str, int]) -> None:
    """The job body: every ended company-period with open targets, one by one."""
    at = now()
    counts.update(closed=0, periods=0, companies=0)
    async with session_factory()() as session:
        due = (await session.execute(DUE, {"at": at, "latest": (at + AHEAD).date()})).all()
        await session.commit()
        settings: dict[uuid.UUID, CompanySettings] = {}
        paths: dict[uuid.UUID, dict[uuid.UUID, str]] = {}
        for row in due:
            if row.company_id not in settings:
                company = (
                    await session.execute(
                        select(Company.time_zone, Company.settings).where(
                            Company.id == row.company_id
                        )
                    )
                ).one()
                settings[row.company_id] = CompanySettings.of(company.time_zone, company.settings)
                paths[row.company_id] = await measures.department_paths(session, row.company_id)
                counts["companies"] += 1
            counts["closed"] += await close_period(
                session,
                row.company_id,
                settings[row.company_id],
                paths[row.company_id],
                (row.starts_on, row.ends_on),
                at,
            )
            counts["periods"] += 1
