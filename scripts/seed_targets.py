"""Demo targets (目标) for this fiscal year, so the dashboard and the achievement report show
real figures:

* the company's `contract_amount` (6,000,000.00) and `visits` (2,400) for the year, split
  evenly into its months;
* this month's company targets split by subject down the tree: the company into its top-level
  department, each department into its sub-departments and direct members — every demo
  department and rep gets this month's two targets, each split adding up exactly.

Called by scripts.seed_demo after the money; idempotent (skips when the company has its year
target). Made through the service the API uses.
"""

import uuid
from collections.abc import Callable
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import now
from app.fieldwork.periods import local_date
from app.org.settings import company_settings
from app.targets import periods
from app.targets import service as targets
from app.targets.models import Target
from app.targets.schemas import Measure, SplitIn, TargetCreate
from scripts.seed_pipeline import principal_of

DemoId = Callable[[str], uuid.UUID]

YEAR_TARGETS: tuple[tuple[Measure, Decimal], ...] = (
    ("contract_amount", Decimal("6000000.00")),
    ("visits", Decimal("2400")),
)


async def seed_targets(session: AsyncSession, company_id: uuid.UUID, demo_id: DemoId) -> int:
    """Insert the demo targets once (commits); returns the targets made."""
    settings = await company_settings(session, company_id)
    year = periods.containing(
        "year", local_date(now(), settings.time_zone), settings.fiscal_year_start_month
    )
    month = periods.containing("month", local_date(now(), settings.time_zone))
    exists = await session.scalar(
        select(Target.id).where(
            Target.company_id == company_id,
            Target.subject == "company",
            Target.period == year.key,
            Target.deleted_at.is_(None),
        )
    )
    if exists is not None:
        return 0
    admin = await principal_of(session, demo_id("user:admin"))
    made = 0
    for measure, value in YEAR_TARGETS:
        parent, _ = await targets.create_target(
            session,
            admin,
            TargetCreate(
                id=demo_id(f"target:{measure}:{year.key}"),
                subject="company",
                measure=measure,
                period=year.key,
                value=value,
                note="演示年度目标 demo year target",
            ),
        )
        months = await targets.split_target(
            session, admin, parent.target.id, SplitIn(by="period", into="month")
        )
        made += 1 + len(months)
        # This month, down the tree by subject.
        queue = [m.target for m in months if m.target.period == month.key]
        while queue:
            target = queue.pop(0)
            if target.subject == "user":
                continue
            children = await targets.split_target(session, admin, target.id, SplitIn(by="subject"))
            made += len(children)
            queue.extend(child.target for child in children)
    await session.commit()
    return made
