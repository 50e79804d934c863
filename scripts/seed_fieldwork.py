"""Demo field work: three weeks of check-ins, follow-ups, daily logs and today's plans.

Called by scripts.seed_demo; idempotent (skips when the demo already has check-ins).
"""

import random
import uuid
from collections.abc import Callable
from datetime import datetime, time, timedelta

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import now
from app.customers.clock import recompute_recycle
from app.customers.models import Customer
from app.feed.models import FeedComment, FeedItem, FeedLike
from app.fieldwork import periods
from app.fieldwork.checkins import rules
from app.fieldwork.logs.service import period_figures
from app.fieldwork.models import Checkin, Followup, VisitPlan, WorkLog
from app.notifications.inbox.service import notify_many

TIME_ZONE = "Asia/Shanghai"
DAYS = 21
KINDS = ("visit", "call", "meeting", "message")


async def seed_fieldwork(
    session: AsyncSession, company_id: uuid.UUID, demo_id: Callable[[str], uuid.UUID]
) -> int:
    """Insert the demo field work once; returns the number of check-ins made."""
    if await session.scalar(select(func.count()).where(Checkin.company_id == company_id)):
        return 0
    randomness = random.Random(7)  # noqa: S311 - demo data
    limits = rules.CheckinThresholds()
    today = periods.local_date(now(), TIME_ZONE)
    made = 0
    for rep in range(1, 11):
        user_id = demo_id(f"user:rep{rep:02d}")
        customers = list(
            (
                await session.execute(
                    select(Customer)
                    .where(Customer.company_id == company_id, Customer.owner_id == user_id)
                    .order_by(Customer.name)
                )
            ).scalars()
        )
        for offset in range(DAYS, 0, -1):
            day = today - timedelta(days=offset)
            if day.weekday() >= 5 or not customers:
                continue
            for visit in range(2):
                customer = customers[(offset * 2 + visit) % len(customers)]
                at = datetime.combine(
                    day,
                    time(10 + visit * 4, randomness.randint(0, 59)),
                    tzinfo=periods.local_midnight(day, TIME_ZONE).tzinfo,
                )
                # One visit in ten is recorded 1-2 km away, one in twelve with a poor GPS fix.
                drift = 0.012 if randomness.random() < 0.1 else 0.0002
                accuracy = 180.0 if randomness.random() < 0.08 else 12.0
                latitude, longitude = customer.latitude + drift, customer.longitude
                facts = rules.CheckinFacts(
                    latitude=latitude,
                    longitude=longitude,
                    accuracy_m=accuracy,
                    client_recorded_at=at,
                    received_at=at,
                    offline=False,
                    mock_location=False,
                    customer_latitude=customer.latitude,
                    customer_longitude=customer.longitude,
                    previous=None,
                    duplicate_position=False,
                )
                flags = rules.plausibility_flags(facts, limits)
                distance = rules.distance_to_customer(facts)
                checkin_id = demo_id(f"checkin:{rep}:{day}:{visit}")
                session.add(
                    Checkin(
                        id=checkin_id,
                        company_id=company_id,
                        user_id=user_id,
                        customer_id=customer.id,
                        latitude=latitude,
                        longitude=longitude,
                        position_key=rules.position_key(latitude, longitude),
                        accuracy_m=accuracy,
                        submitted_crs="gcj02",
                        client_recorded_at=at,
                        received_at=at,
                        purpose="拜访 visit",
                        note="演示数据 demo",
                        mock_location=False,
                        device_id=f"demo-{rep}",
                        distance_m=round(distance or 0, 1),
                        flags=flags,
                        counts_as_followup=rules.counts_as_followup(flags, limits),
                        checked_out_at=at + timedelta(minutes=40),
                        duration_s=2400,
                        request_hash="seed",
                        created_at=at,
                    )
                )
                session.add(
                    Followup(
                        id=demo_id(f"followup:{rep}:{day}:{visit}"),
                        company_id=company_id,
                        user_id=user_id,
                        customer_id=customer.id,
                        kind=KINDS[(offset + visit) % len(KINDS)],
                        text="沟通了需求和报价 Discussed needs and pricing",
                        checkin_id=checkin_id,
                        request_hash="seed",
                        version=1,
                        created_at=at + timedelta(minutes=45),
                        updated_at=at + timedelta(minutes=45),
                    )
                )
                made += 1
            await session.flush()
            start, begin, end = periods.utc_range("daily", day, TIME_ZONE)
            session.add(
                WorkLog(
                    id=demo_id(f"log:{rep}:{day}"),
                    company_id=company_id,
                    user_id=user_id,
                    period="daily",
                    period_start=start,
                    text="今日拜访两家客户 Two customer visits today",
                    figures=await period_figures(session, user_id, begin, end),
                    request_hash="seed",
                    version=1,
                    created_at=end - timedelta(hours=3),
                    updated_at=end - timedelta(hours=3),
                )
            )
        for sequence, customer in enumerate(customers[:3]):
            session.add(
                VisitPlan(
                    id=demo_id(f"plan:{rep}:{today}:{sequence}"),
                    company_id=company_id,
                    user_id=user_id,
                    customer_id=customer.id,
                    plan_date=today,
                    planned_time=time(9 + sequence * 2, 30),
                    sequence=sequence,
                    purpose="回访 follow-up visit",
                    created_by=user_id,
                    request_hash="seed",
                    version=1,
                    created_at=now(),
                    updated_at=now(),
                )
            )
    await session.flush()
    last = (
        select(func.max(Followup.created_at))
        .where(Followup.customer_id == Customer.id)
        .scalar_subquery()
    )
    await session.execute(
        update(Customer)
        .where(Customer.company_id == company_id, Customer.owner_id.is_not(None))
        .values(last_followup_at=func.coalesce(last, Customer.last_followup_at))
        .execution_options(synchronize_session=False)
    )
    await recompute_recycle(session, company_id)
    await seed_feed(session, company_id, demo_id)
    await session.commit()
    return made


FEED_FROM_RECORDS = text("""
INSERT INTO feed_items (id, company_id, kind, subject_type, subject_id, customer_id, author_id,
                        summary, like_count, comment_count, created_at)
SELECT gen_random_uuid(), r.company_id, r.kind, r.kind, r.id, r.customer_id, r.user_id,
       jsonb_build_object('author', jsonb_build_object('id', u.id, 'name', u.name),
                          'customer', jsonb_build_object('id', c.id, 'name', c.name),
                          'text', r.text),
       0, 0, r.created_at
FROM (SELECT 'checkin' AS kind, id, company_id, customer_id, user_id, note AS text, created_at
      FROM checkins
      UNION ALL
      SELECT 'followup', id, company_id, customer_id, user_id, text, created_at FROM followups) r
JOIN users u ON u.id = r.user_id JOIN customers c ON c.id = r.customer_id
WHERE r.company_id = :company
ON CONFLICT DO NOTHING
""")


async def seed_feed(
    session: AsyncSession, company_id: uuid.UUID, demo_id: Callable[[str], uuid.UUID]
) -> None:
    """Feed items for the demo records; the managers like and comment on the latest ones."""
    await session.execute(FEED_FROM_RECORDS, {"company": company_id})
    latest = list(
        (
            await session.execute(
                select(FeedItem)
                .where(FeedItem.company_id == company_id, FeedItem.kind == "followup")
                .order_by(FeedItem.created_at.desc())
                .limit(12)
            )
        ).scalars()
    )
    notices = []
    for index, item in enumerate(latest):
        manager = demo_id(f"user:manager0{index % 2 + 1}")
        session.add(
            FeedLike(
                item_id=item.id, user_id=manager, company_id=company_id, created_at=item.created_at
            )
        )
        item.like_count = 1
        notices.append(
            {
                "company_id": company_id,
                "user_id": item.author_id,
                "kind": "like",
                "params": {"subject": "followup", "likers": ["经理 Manager"], "like_count": 1},
                "dedupe_key": f"like:{item.id}",
                "subject_type": "feed_item",
                "subject_id": item.id,
                "actor_id": manager,
                "deep_link": f"outfield://feed/{item.id}",
            }
        )
        if index % 3 == 0:
            comment = FeedComment(
                id=demo_id(f"comment:{item.id}"),
                company_id=company_id,
                item_id=item.id,
                author_id=manager,
                parent_id=None,
                mentions=[],
                body="跟进得很及时，下次带上报价单 Good follow-up; bring the quote next time",
                request_hash="seed",
                version=1,
                created_at=item.created_at,
                updated_at=item.created_at,
            )
            session.add(comment)
            item.comment_count = 1
            notices.append(
                {
                    "company_id": company_id,
                    "user_id": item.author_id,
                    "kind": "comment",
                    "params": {
                        "actor": "经理 Manager",
                        "subject": "followup",
                        "excerpt": "跟进得很及时，下次带上报价单",
                    },
                    "dedupe_key": f"comment:{comment.id}",
                    "subject_type": "feed_item",
                    "subject_id": item.id,
                    "actor_id": manager,
                    "deep_link": f"outfield://feed/{item.id}",
                }
            )
    await session.flush()
    await notify_many(session, notices)
