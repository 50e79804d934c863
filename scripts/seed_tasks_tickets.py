"""Demo tasks and service tickets, so the task list and the ticket report show something:

* rep01's tasks for today (10:00, 14:00 and 16:30 company time, one on a customer with a
  reminder) and one from manager01 shared by rep01 and rep02;
* two tickets on rep01's first customer: an urgent complaint opened 6 hours ago and overdue
  (due 4 hours after opening), and a service request resolved with a rating of 5.

Called by scripts.seed_demo after the targets; idempotent (skips when the first task exists).
Made through the services the API uses.
"""

import uuid
from collections.abc import Callable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import now
from app.customers.models import Customer
from app.fieldwork.periods import local_date
from app.org.settings import company_settings
from app.tasks import service as tasks
from app.tasks.models import Task
from app.tasks.schemas import TaskCreate
from app.tickets import service as tickets
from app.tickets.models import Ticket
from app.tickets.schemas import TicketCreate, TicketResolve, TicketUpdate
from scripts.seed_pipeline import principal_of

DemoId = Callable[[str], uuid.UUID]
TODAY_TASKS = (
    ("task:today:1", time(10, 0), "回访客户 Call the customer back", True),
    ("task:today:2", time(14, 0), "准备报价单 Prepare the quotation", False),
    ("task:today:3", time(16, 30), "提交周报 Hand in the weekly report", False),
)


async def seed_tasks_tickets(session: AsyncSession, company_id: uuid.UUID, demo_id: DemoId) -> int:
    """Insert the demo tasks and tickets once (commits); returns the records made."""
    if await session.get(Task, demo_id(TODAY_TASKS[0][0])) is not None:
        return 0
    settings = await company_settings(session, company_id)
    zone = ZoneInfo(settings.time_zone)
    today = local_date(now(), settings.time_zone)
    rep = await principal_of(session, demo_id("user:rep01"))
    manager = await principal_of(session, demo_id("user:manager01"))
    customer_id = await session.scalar(
        select(Customer.id)
        .where(Customer.company_id == company_id, Customer.owner_id == rep.user_id)
        .order_by(Customer.created_at, Customer.id)
        .limit(1)
    )
    made = 0
    for key, at, title, on_customer in TODAY_TASKS:
        await tasks.create_task(
            session,
            rep,
            TaskCreate(
                id=demo_id(key),
                title=title,
                due_at=datetime.combine(today, at, tzinfo=zone),
                customer_id=customer_id if on_customer else None,
                remind_before_min=30 if on_customer else None,
            ),
        )
        made += 1
    await tasks.create_task(
        session,
        manager,
        TaskCreate(
            id=demo_id("task:today:team"),
            title="团队例会 Team meeting",
            due_at=datetime.combine(today, time(17, 30), tzinfo=zone),
            assignee_ids=[rep.user_id, demo_id("user:rep02")],
        ),
    )
    made += 1
    if customer_id is not None:
        late, _ = await tickets.create_ticket(
            session,
            rep,
            TicketCreate(
                id=demo_id("ticket:overdue"),
                customer_id=customer_id,
                kind="complaint",
                priority="urgent",
                description="到货延误三天 Delivery three days late",
            ),
        )
        opened = now() - timedelta(hours=6)
        await session.execute(
            update(Ticket)
            .where(Ticket.id == late.id)
            .values(created_at=opened, opened_at=opened, due_at=opened + timedelta(hours=4))
        )
        done, _ = await tickets.create_ticket(
            session,
            rep,
            TicketCreate(
                id=demo_id("ticket:resolved"),
                customer_id=customer_id,
                kind="service",
                priority="normal",
                description="设备安装调试 Install and tune the machine",
            ),
        )
        await tickets.update_ticket(
            session, rep, done.id, TicketUpdate(status="in_progress"), '"1"'
        )
        await tickets.resolve_ticket(
            session,
            rep,
            done.id,
            TicketResolve(
                resolution="已上门安装 Installed on site",
                satisfaction=5,
                comment="很专业 Very professional",
            ),
        )
        made += 2
    await session.commit()
    return made
