"""The overdue ticket notice: `ticket_overdue` to the assignee (the creator when it has none)
once a ticket still open or in progress passes its due time — once per due time
(`tickets.overdue_notified_at`, stamped by a conditional UPDATE; a reopening or a priority
that moves the due time clears it). Sent by every run of the reminders job."""

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.notifications.inbox.service import notify_many

PRIORITY_ZH = {"low": "低优先级", "normal": "普通", "high": "高优先级", "urgent": "紧急"}

OVERDUE = text("""
UPDATE tickets t SET overdue_notified_at = :now
FROM companies c, customers cu
WHERE c.id = t.company_id AND cu.id = t.customer_id
  AND t.status IN ('open', 'in_progress') AND t.overdue_notified_at IS NULL
  AND t.due_at <= :now
RETURNING t.id, t.company_id, t.customer_id, t.priority, t.due_at,
          coalesce(t.assignee_id, t.created_by) AS user_id, cu.name AS customer, c.time_zone
""")


async def ticket_overdue(session: AsyncSession, at: datetime) -> int:
    """Notify every ticket that became overdue, once; returns how many (the caller commits)."""
    rows = (await session.execute(OVERDUE, {"now": at})).all()
    notices = [
        {
            "company_id": row.company_id,
            "user_id": row.user_id,
            "kind": "ticket_overdue",
            "params": {
                "customer": row.customer,
                "priority": row.priority,
                "priority_zh": PRIORITY_ZH[row.priority],
                "due_local": row.due_at.astimezone(ZoneInfo(row.time_zone)).strftime(
                    "%Y-%m-%d %H:%M"
                ),
            },
            "dedupe_key": f"ticket_overdue:{row.id}:{row.due_at.isoformat()}",
            "subject_type": "ticket",
            "subject_id": row.id,
            "customer_id": row.customer_id,
            "deep_link": f"outfield://tickets/{row.id}",
        }
        for row in rows
    ]
    await notify_many(session, notices)
    return len(rows)
