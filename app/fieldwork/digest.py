"""The managers' morning digest: yesterday's visits, flagged check-ins and follow-ups of
each manager's subtree. The reminders job calls `manager_digests`."""

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

DIGEST = text("""
SELECT m.id AS manager_id,
       (SELECT count(*) FROM checkins ch JOIN users u ON u.id = ch.user_id
          JOIN departments d ON d.id = u.department_id
        WHERE d.path LIKE md.path || '%'
          AND ch.client_recorded_at >= :start AND ch.client_recorded_at < :end)
         AS visits,
       (SELECT count(*) FROM checkins ch JOIN users u ON u.id = ch.user_id
          JOIN departments d ON d.id = u.department_id
        WHERE d.path LIKE md.path || '%'
          AND ch.client_recorded_at >= :start AND ch.client_recorded_at < :end
          AND jsonb_array_length(ch.flags) > 0) AS flagged,
       (SELECT count(*) FROM followups f JOIN users u ON u.id = f.user_id
          JOIN departments d ON d.id = u.department_id
        WHERE d.path LIKE md.path || '%' AND f.created_at >= :start AND f.created_at < :end
          AND f.deleted_at IS NULL) AS followups
FROM users m JOIN departments md ON md.id = m.department_id
WHERE m.company_id = :company AND m.role = 'manager' AND m.is_active
""")


async def manager_digests(
    session: AsyncSession, company: uuid.UUID, zone: ZoneInfo, day: date
) -> list[dict[str, Any]]:
    """One `manager_digest` notice per active manager of the company, for the day before."""
    start = datetime.combine(day - timedelta(days=1), time(0), tzinfo=zone)
    end = datetime.combine(day, time(0), tzinfo=zone)
    rows = await session.execute(DIGEST, {"company": company, "start": start, "end": end})
    return [
        {
            "company_id": company,
            "user_id": row.manager_id,
            "kind": "manager_digest",
            "params": {"visits": row.visits, "followups": row.followups, "flagged": row.flagged},
            "dedupe_key": f"digest:{row.manager_id}:{day}",
            "subject_type": None,
            "subject_id": None,
            "customer_id": None,
            "deep_link": "outfield://reports/visits",
        }
        for row in rows.all()
    ]
