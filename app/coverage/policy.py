"""Reading a company's coverage policy: one rule per tier, the stored rows over the defaults."""

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import now
from app.core.concurrency import check_if_match
from app.coverage.models import DEFAULT_POLICY, TIERS, CoverageTier
from app.org.models import Company

# The days one frequency period stands for (a visit interval is days / visits: A at 4 a month
# is due every 7.5 days).
PERIOD_DAYS = {"week": 7.0, "month": 30.0, "quarter": 90.0, "year": 365.0}


@dataclass(frozen=True)
class CoverageRule:
    """How often a customer of a tier is to be visited, and how long a visit takes."""

    visits: int
    per: str
    minutes_per_visit: int

    @property
    def interval_days(self) -> float | None:
        """Days between two visits; None when the tier is never due (0 visits)."""
        if self.visits <= 0:
            return None
        return PERIOD_DAYS[self.per] / self.visits


def tier_of(tier: str | None) -> str:
    """A customer's policy tier: its tier, or `untiered`."""
    return tier if tier in TIERS else "untiered"


async def load_policy(session: AsyncSession, company_id: uuid.UUID) -> dict[str, CoverageRule]:
    """Every tier's rule for the company: its stored row, else `DEFAULT_POLICY`."""
    rules = {
        tier: CoverageRule(
            visits=int(rule["visits"]),
            per=str(rule["per"]),
            minutes_per_visit=int(rule["minutes_per_visit"]),
        )
        for tier, rule in DEFAULT_POLICY.items()
    }
    rows = await session.execute(select(CoverageTier).where(CoverageTier.company_id == company_id))
    for row in rows.scalars():
        rules[row.tier] = CoverageRule(row.visits, row.per, row.minutes_per_visit)
    return rules


# ---------- the policy as the API reads and replaces it (`/v1/coverage-policy`) ----------


async def policy_version(session: AsyncSession, company_id: uuid.UUID) -> int:
    """The policy's version (its ETag): 1 while the company has the defaults."""
    stored = await session.scalar(
        select(func.max(CoverageTier.version)).where(CoverageTier.company_id == company_id)
    )
    return int(stored or 1)


async def replace_policy(
    session: AsyncSession,
    company_id: uuid.UUID,
    rules: dict[str, CoverageRule],
    if_match: str | None,
) -> tuple[dict[str, CoverageRule], int]:
    """Every tier's rule at once under If-Match (428/412); the company row is locked so two
    replacements cannot both pass the check."""
    await session.execute(
        select(Company.id).where(Company.id == company_id).with_for_update(key_share=True)
    )
    version = await policy_version(session, company_id)
    check_if_match(if_match, version)
    at = now()
    rows = [
        {
            "company_id": company_id,
            "tier": tier,
            "visits": rule.visits,
            "per": rule.per,
            "minutes_per_visit": rule.minutes_per_visit,
            "version": version + 1,
            "updated_at": at,
        }
        for tier, rule in rules.items()
    ]
    statement = insert(CoverageTier).values(rows)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[CoverageTier.company_id, CoverageTier.tier],
            set_={
                "visits": statement.excluded.visits,
                "per": statement.excluded.per,
                "minutes_per_visit": statement.excluded.minutes_per_visit,
                "version": statement.excluded.version,
                "updated_at": statement.excluded.updated_at,
            },
        )
    )
    return await load_policy(session, company_id), version + 1
