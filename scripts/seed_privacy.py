"""Demo data for phone privacy: masked numbers on for the demo company (idempotent).

Reps see their own customers' numbers in full and everyone else's masked (`138****5678`);
manager01 may reveal a number of a customer in their subtree (`POST
/v1/customers/{id}/phone-reveal`, audited).
"""

import uuid

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.org.models import Company


async def seed_privacy(session: AsyncSession, company_id: uuid.UUID) -> None:
    await session.execute(
        update(Company)
        .where(Company.id == company_id)
        .values(settings=Company.settings.op("||")(func.jsonb_build_object("mask_phones", True)))
    )
    await session.commit()
