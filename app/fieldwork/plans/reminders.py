"""The plan reminder: `plan_reminder` to a plan's user N minutes before its planned time (the
company's `plan_reminder_minutes`, 0: never), in the company's time zone, once per planned
day and time (`visit_plans.reminded_at`, stamped by a conditional UPDATE; moving a plan clears
it). Sent by every run of the reminders job (every `OUTFIELD_REMINDERS_MINUTES`), so it comes
up to that many minutes earlier than N before; a plan whose time has passed, or that was
visited already that day, is not reminded."""

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.notifications.inbox.service import notify_many
from app.org.settings import CompanySettings

# Timed plans not yet reminded, of the days around now in any zone (ix_visit_plans_to_remind),
# not visited that local day.
CANDIDATES = text("""
SELECT p.id, p.company_id, p.user_id, p.customer_id, p.plan_date, p.planned_time,
       cu.name AS customer, c.time_zone, c.settings
FROM visit_plans p
JOIN companies c ON c.id = p.company_id
JOIN customers cu ON cu.id = p.customer_id
WHERE p.planned_time IS NOT NULL AND p.reminded_at IS NULL AND p.deleted_at IS NULL
  AND p.plan_date BETWEEN :first AND :last
  AND NOT EXISTS (
      SELECT 1 FROM checkins k
      WHERE k.user_id = p.user_id AND k.customer_id = p.customer_id
        AND (k.client_recorded_at AT TIME ZONE c.time_zone)::date = p.plan_date
  )
""")
STAMP = text("""
UPDATE visit_plans SET reminded_at = :now
WHERE id = ANY(:ids) AND reminded_at IS NULL AND deleted_at IS NULL
RETURNING id
""")


def _due(row: Any, at: datetime) -> datetime | None:
    """The plan's local start when its reminder is due at `at`, else None."""
    settings = CompanySettings.of(row.time_zone, row.settings)
    minutes = settings.plan_reminder_minutes
    if minutes <= 0:
        return None
    start = datetime.combine(
        row.plan_date, row.planned_time.replace(tzinfo=None), tzinfo=ZoneInfo(row.time_zone)
    )
    return start if start - timedelta(minutes=minutes) <= at < start else None


async def plan_reminders(session: AsyncSession, at: datetime) -> int:
    """Remind every plan due now, once; returns how many were reminded (the caller commits)."""
    day = at.date()
    rows = (
        await session.execute(
            CANDIDATES, {"first": day - timedelta(days=1), "last": day + timedelta(days=2)}
        )
    ).all()
    due = {row.id: (row, start) for row in rows if (start := _due(row, at)) is not None}
    if not due:
        return 0
    stamped = (await session.execute(STAMP, {"now": at, "ids": list(due)})).scalars().all()
    notices = []
    for plan_id in stamped:
        row, start = due[plan_id]
        notices.append(
            {
                "company_id": row.company_id,
                "user_id": row.user_id,
                "kind": "plan_reminder",
                "params": {
                    "customer": row.customer,
                    "time": start.strftime("%H:%M"),
                    "date": row.plan_date.isoformat(),
                },
                "dedupe_key": f"plan_reminder:{plan_id}:{start.isoformat()}",
                "subject_type": "visit_plan",
                "subject_id": plan_id,
                "customer_id": row.customer_id,
                "deep_link": f"outfield://visit-plans/{plan_id}",
            }
        )
    await notify_many(session, notices)
    return len(stamped)
