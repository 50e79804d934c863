"""The task reminder: `task_due` to every assignee `remind_before_min` minutes before a task's
due time, once (`tasks.reminded_at`, stamped by a conditional UPDATE; a new due time or offset
clears it). Sent by every run of the reminders job, so it comes up to that many minutes
earlier than asked; never for a done or deleted task, nor once the due time has passed."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.notifications.inbox.service import notify_many
from app.tasks.schemas import REMIND_MAX

# Open tasks whose reminder time has come and whose due time has not (ix_tasks_to_remind).
CANDIDATES = text("""
SELECT t.id, t.company_id, t.title, t.due_at, t.customer_id, c.time_zone
FROM tasks t JOIN companies c ON c.id = t.company_id
WHERE t.remind_before_min IS NOT NULL AND t.reminded_at IS NULL AND t.done_at IS NULL
  AND t.deleted_at IS NULL
  AND t.due_at > :now AND t.due_at <= :horizon
  AND t.due_at - make_interval(mins => t.remind_before_min) <= :now
""")
STAMP = text("""
UPDATE tasks SET reminded_at = :now
WHERE id = ANY(:ids) AND reminded_at IS NULL AND done_at IS NULL AND deleted_at IS NULL
RETURNING id
""")
ASSIGNEES = text("SELECT task_id, user_id FROM task_assignees WHERE task_id = ANY(:ids)")


async def task_reminders(session: AsyncSession, at: datetime) -> int:
    """Remind every task due now, once; returns how many tasks were reminded (the caller
    commits)."""
    horizon = at + timedelta(minutes=REMIND_MAX)
    rows = {
        row.id: row
        for row in (await session.execute(CANDIDATES, {"now": at, "horizon": horizon})).all()
    }
    if not rows:
        return 0
    stamped = list((await session.execute(STAMP, {"now": at, "ids": list(rows)})).scalars())
    if not stamped:
        return 0
    notices = []
    for task_id, user_id in (await session.execute(ASSIGNEES, {"ids": stamped})).all():
        row = rows[task_id]
        due_local = row.due_at.astimezone(ZoneInfo(row.time_zone))
        notices.append(
            {
                "company_id": row.company_id,
                "user_id": user_id,
                "kind": "task_due",
                "params": {"title": row.title, "due_local": due_local.strftime("%Y-%m-%d %H:%M")},
                "dedupe_key": f"task_due:{task_id}:{row.due_at.isoformat()}",
                "subject_type": "task",
                "subject_id": task_id,
                "customer_id": row.customer_id,
                "deep_link": f"outfield://tasks/{task_id}",
            }
        )
    await notify_many(session, notices)
    return len(stamped)
