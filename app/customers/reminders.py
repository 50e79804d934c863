"""The customers' daily reminders (in each company's time zone, at its reminder hour):
follow-ups overdue, held customers forgotten (the company's `forgotten_after_days`), contacts'
birthdays. The reminders job calls `customer_reminders`; dedupe keys carry the local day (a
forgotten customer: its last touch), so a rerun tells nobody twice."""

import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

OVERDUE_WINDOW = timedelta(days=30)

OVERDUE = text("""
SELECT id, name, owner_id, next_followup_at FROM customers
WHERE company_id = :company AND owner_id IS NOT NULL AND deleted_at IS NULL
  AND next_followup_at < :now AND next_followup_at >= :since
""")
# Every held customer nobody has contacted for the company's forgotten-after days: no follow-up
# and no check-in that moves the follow-up clock (`last_followup_at`; a check-in flagged far or
# mocked does not, unless the company counts those), since it was claimed (or created). Told
# once per quiet spell (the key carries the last touch): a contact and a new spell tell again.
FORGOTTEN = text("""
SELECT f.id, f.name, f.owner_id, f.last_touch, f.dedupe_key FROM (
    SELECT id, name, owner_id, company_id,
           coalesce(greatest(last_followup_at, claimed_at), created_at) AS last_touch,
           'forgotten:' || id || ':' || floor(extract(epoch FROM
               coalesce(greatest(last_followup_at, claimed_at), created_at)))::bigint
               AS dedupe_key
    FROM customers
    WHERE company_id = :company AND owner_id IS NOT NULL AND deleted_at IS NULL
      AND coalesce(greatest(last_followup_at, claimed_at), created_at) < :cutoff
) f
WHERE NOT EXISTS (
    SELECT 1 FROM notifications n
    WHERE n.user_id = f.owner_id AND n.dedupe_key = f.dedupe_key AND n.company_id = f.company_id
)
""")
BIRTHDAYS = text("""
SELECT ct.id, ct.name AS contact, cu.id AS customer_id, cu.name AS customer, cu.owner_id
FROM customer_contacts ct JOIN customers cu ON cu.id = ct.customer_id
WHERE ct.company_id = :company AND ct.deleted_at IS NULL AND cu.deleted_at IS NULL
  AND cu.owner_id IS NOT NULL AND ct.birthday IS NOT NULL
  AND extract(month FROM ct.birthday) = :month AND extract(day FROM ct.birthday) = :day
""")


def _notice(
    company: uuid.UUID,
    user: uuid.UUID,
    kind: str,
    key: str,
    params: dict[str, Any],
    customer: uuid.UUID,
) -> dict[str, Any]:
    return {
        "company_id": company,
        "user_id": user,
        "kind": kind,
        "params": params,
        "dedupe_key": key,
        "subject_type": "customer",
        "subject_id": customer,
        "customer_id": customer,
        "deep_link": f"outfield://customers/{customer}",
    }


async def customer_reminders(
    session: AsyncSession,
    company: uuid.UUID,
    zone: ZoneInfo,
    day: date,
    at: datetime,
    forgotten_after_days: int,
) -> list[dict[str, Any]]:
    """Today's customer reminders of one company, as notices for `notify_many`."""
    notices: list[dict[str, Any]] = []
    for row in (
        await session.execute(
            OVERDUE, {"company": company, "now": at, "since": at - OVERDUE_WINDOW}
        )
    ).all():
        due_local = row.next_followup_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        notices.append(
            _notice(
                company,
                row.owner_id,
                "followup_overdue",
                f"followup_overdue:{row.id}:{day}",
                {"customer": row.name, "due_local": due_local},
                row.id,
            )
        )
    cutoff = at - timedelta(days=forgotten_after_days)
    for row in (await session.execute(FORGOTTEN, {"company": company, "cutoff": cutoff})).all():
        notices.append(
            _notice(
                company,
                row.owner_id,
                "customer_forgotten",
                row.dedupe_key,
                {"customer": row.name, "days": (at - row.last_touch).days},
                row.id,
            )
        )
    for row in (
        await session.execute(BIRTHDAYS, {"company": company, "month": day.month, "day": day.day})
    ).all():
        notices.append(
            _notice(
                company,
                row.owner_id,
                "contact_birthday",
                f"birthday:{row.id}:{day}",
                {"customer": row.customer, "contact": row.contact},
                row.customer_id,
            )
        )
    return notices
