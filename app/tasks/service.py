"""Tasks: create, read, edit (done/undone under If-Match), list by due window, and the
follow-ups the customers' clocks plan, shown beside them as read-only items."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, delete, exists, literal, select, tuple_, union_all
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core import client_ids
from app.core.clock import now
from app.core.concurrency import check_if_match
from app.core.errors import not_found
from app.core.pagination import PageParams, encode_cursor
from app.customers.access import load_customer, subtree_user_ids
from app.customers.models import Customer
from app.db import AnySelect, savepoint
from app.fieldwork import periods
from app.leads.models import Lead
from app.leads.visibility import lead_visibility
from app.notifications.inbox.service import notify
from app.org import users as org_users
from app.org.settings import company_settings
from app.pipeline.models import Opportunity
from app.pipeline.visibility import opportunity_visibility
from app.tasks.assignees import check_assignees
from app.tasks.models import Task, TaskAssignee
from app.tasks.schemas import DueFilter, TaskCreate, TaskKind, TaskUpdate


@dataclass(frozen=True)
class TaskView:
    task: Task
    assignee_ids: list[uuid.UUID]


@dataclass(frozen=True)
class FollowupItem:
    """A customer's planned next follow-up (`customers.next_followup_at`), for its owner."""

    customer_id: uuid.UUID
    name: str
    due_at: datetime
    owner_id: uuid.UUID


def task_visibility(principal: Principal) -> ColumnElement[bool]:
    """Not deleted tasks of the company the caller made or is given; managers also those of
    the people of their subtree; admins all."""
    base = (Task.company_id == principal.company_id) & Task.deleted_at.is_(None)
    if principal.is_admin:
        return base
    assigned = exists().where(
        TaskAssignee.task_id == Task.id, TaskAssignee.user_id == principal.user_id
    )
    visible = (Task.created_by == principal.user_id) | assigned
    if principal.is_manager and principal.department_path:
        team = subtree_user_ids(principal)
        visible = (
            visible
            | Task.created_by.in_(team)
            | exists().where(TaskAssignee.task_id == Task.id, TaskAssignee.user_id.in_(team))
        )
    return base & visible


async def assignees_of(
    session: AsyncSession, task_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    if not task_ids:
        return {}
    rows = await session.execute(
        select(TaskAssignee.task_id, TaskAssignee.user_id)
        .where(TaskAssignee.task_id.in_(task_ids))
        .order_by(TaskAssignee.task_id, TaskAssignee.user_id)
    )
    found: dict[uuid.UUID, list[uuid.UUID]] = {}
    for task_id, user_id in rows:
        found.setdefault(task_id, []).append(user_id)
    return found


async def _check_link(session: AsyncSession, principal: Principal, data: TaskCreate) -> None:
    """The linked customer, opportunity or lead must be visible to the caller (else 404)."""
    if data.customer_id is not None:
        await load_customer(session, principal, data.customer_id)
    if data.opportunity_id is not None:
        found = await session.scalar(
            select(Opportunity.id).where(
                Opportunity.id == data.opportunity_id, opportunity_visibility(principal)
            )
        )
        if found is None:
            raise not_found("opportunity")
    if data.lead_id is not None:
        found = await session.scalar(
            select(Lead.id).where(Lead.id == data.lead_id, lead_visibility(principal))
        )
        if found is None:
            raise not_found("lead")


async def _notify_assigned(
    session: AsyncSession, principal: Principal, task: Task, user_ids: list[uuid.UUID]
) -> None:
    settings = await company_settings(session, principal.company_id)
    actor = await org_users.get_user(session, principal, principal.user_id)
    await notify(
        session,
        company_id=principal.company_id,
        user_ids=user_ids,
        kind="task_assigned",
        params={
            "actor": actor.name,
            "title": task.title,
            "due_local": task.due_at.astimezone(ZoneInfo(settings.time_zone)).strftime(
                "%Y-%m-%d %H:%M"
            ),
        },
        dedupe_key=f"task_assigned:{task.id}",
        subject_type="task",
        subject_id=task.id,
        customer_id=task.customer_id,
        actor_id=principal.user_id,
        deep_link=f"outfield://tasks/{task.id}",
    )


async def create_task(
    session: AsyncSession, principal: Principal, data: TaskCreate
) -> tuple[TaskView, bool]:
    """A task for the caller or the people they may assign; every other assignee is told."""
    request_hash = client_ids.request_hash(data)
    existing = await client_ids.replayed(
        session,
        Task,
        data.id,
        request_hash,
        lambda row: row.company_id == principal.company_id and row.created_by == principal.user_id,
    )
    if existing is not None:
        return TaskView(
            existing, (await assignees_of(session, [existing.id])).get(existing.id, [])
        ), False
    await _check_link(session, principal, data)
    assignees = await check_assignees(session, principal, data.assignee_ids) or [principal.user_id]
    at = now()
    task = Task(
        id=data.id or uuid.uuid4(),
        company_id=principal.company_id,
        created_by=principal.user_id,
        title=data.title,
        note=data.note,
        due_at=data.due_at,
        customer_id=data.customer_id,
        opportunity_id=data.opportunity_id,
        lead_id=data.lead_id,
        remind_before_min=data.remind_before_min,
        request_hash=request_hash,
        version=1,
        created_at=at,
        updated_at=at,
    )
    try:
        async with savepoint(session):
            session.add(task)
    except IntegrityError as exc:
        raise client_ids.id_conflict() from exc
    await _add_assignees(session, task, assignees)
    await _notify_assigned(session, principal, task, assignees)
    await session.flush()
    return TaskView(task, sorted(assignees)), True


async def _add_assignees(session: AsyncSession, task: Task, user_ids: list[uuid.UUID]) -> None:
    if user_ids:
        await session.execute(
            insert(TaskAssignee)
            .values(
                [
                    {"task_id": task.id, "user_id": user_id, "company_id": task.company_id}
                    for user_id in user_ids
                ]
            )
            .on_conflict_do_nothing()
        )


async def get_task(
    session: AsyncSession, principal: Principal, task_id: uuid.UUID, *, lock: bool = False
) -> TaskView:
    """One visible task, or 404."""
    stmt = select(Task).where(Task.id == task_id, task_visibility(principal))
    if lock:
        stmt = stmt.with_for_update(of=Task)
    task = await session.scalar(stmt)
    if task is None:
        raise not_found("task")
    return TaskView(task, (await assignees_of(session, [task.id])).get(task.id, []))


async def update_task(
    session: AsyncSession,
    principal: Principal,
    task_id: uuid.UUID,
    data: TaskUpdate,
    if_match: str | None,
) -> TaskView:
    """Whoever sees the task edits it (If-Match); `done` marks it done or undone; a new due time
    or reminder offset re-arms the reminder; new assignees are told."""
    found = await get_task(session, principal, task_id, lock=True)
    task = found.task
    check_if_match(if_match, task.version)
    fields = data.model_fields_set
    if "title" in fields and data.title:
        task.title = data.title
    if "note" in fields:
        task.note = data.note
    if "due_at" in fields and data.due_at is not None and data.due_at != task.due_at:
        task.due_at = data.due_at
        task.reminded_at = None
    if "remind_before_min" in fields and data.remind_before_min != task.remind_before_min:
        task.remind_before_min = data.remind_before_min
        task.reminded_at = None
    if "done" in fields and data.done is not None:
        if data.done and task.done_at is None:
            task.done_at, task.done_by = now(), principal.user_id
        elif not data.done:
            task.done_at, task.done_by = None, None
    assignees = found.assignee_ids
    if "assignee_ids" in fields and data.assignee_ids:
        wanted = await check_assignees(session, principal, data.assignee_ids)
        added = [user_id for user_id in wanted if user_id not in assignees]
        await session.execute(
            delete(TaskAssignee).where(
                TaskAssignee.task_id == task.id, TaskAssignee.user_id.not_in(wanted)
            )
        )
        await _add_assignees(session, task, added)
        await _notify_assigned(session, principal, task, added)
        assignees = sorted(wanted)
    task.version += 1
    await session.flush()
    await session.refresh(task)
    return TaskView(task, assignees)


async def delete_task(session: AsyncSession, principal: Principal, task_id: uuid.UUID) -> None:
    """Soft delete by whoever sees it."""
    found = await get_task(session, principal, task_id, lock=True)
    found.task.deleted_at = now()
    await session.flush()


async def _listed_user(
    session: AsyncSession, principal: Principal, user_id: uuid.UUID | None
) -> uuid.UUID:
    """The caller, or (managers, admins) a visible user; a rep asking for another: 404."""
    if user_id is None or user_id == principal.user_id:
        return principal.user_id
    if not (principal.is_admin or principal.is_manager):
        raise not_found("user")
    return (await org_users.get_user(session, principal, user_id)).id


async def list_tasks(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    *,
    due: DueFilter | None,
    user_id: uuid.UUID | None,
    done: bool | None,
    kind: TaskKind | None,
) -> tuple[list[TaskView | FollowupItem], str | None]:
    """One user's tasks and planned follow-ups, soonest due first (keyset on due time, id)."""
    who = await _listed_user(session, principal, user_id)
    at = now()
    settings = await company_settings(session, principal.company_id)
    start: datetime | None = None
    end: datetime | None = None
    if due in ("today", "week"):
        today = periods.local_date(at, settings.time_zone)
        if due == "week":
            today -= timedelta(days=(today.isoweekday() - settings.week_start) % 7)
        days = 1 if due == "today" else 7
        start = periods.local_midnight(today, settings.time_zone)
        end = periods.local_midnight(today + timedelta(days=days), settings.time_zone)
    tasks = select(
        Task.id.label("id"), literal("task").label("kind"), Task.due_at.label("due_at")
    ).where(
        Task.company_id == principal.company_id,
        Task.deleted_at.is_(None),
        exists().where(TaskAssignee.task_id == Task.id, TaskAssignee.user_id == who),
    )
    followups = select(Customer.id, literal("followup"), Customer.next_followup_at).where(
        Customer.company_id == principal.company_id,
        Customer.owner_id == who,
        Customer.deleted_at.is_(None),
        Customer.next_followup_at.is_not(None),
    )
    if start is not None and end is not None:
        tasks = tasks.where(Task.due_at >= start, Task.due_at < end)
        followups = followups.where(
            Customer.next_followup_at >= start, Customer.next_followup_at < end
        )
    if due == "overdue":
        tasks = tasks.where(Task.due_at < at, Task.done_at.is_(None))
        followups = followups.where(Customer.next_followup_at < at)
    if done is not None:
        tasks = tasks.where(Task.done_at.is_not(None) if done else Task.done_at.is_(None))
    parts: list[AnySelect] = []
    if kind in (None, "task"):
        parts.append(tasks)
    if kind in (None, "followup") and not done:
        parts.append(followups)
    if not parts:
        return [], None
    merged = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    stmt = select(merged.c.id, merged.c.kind, merged.c.due_at)
    if params.after is not None:
        stmt = stmt.where(tuple_(merged.c.due_at, merged.c.id) > tuple_(*params.after))
    stmt = stmt.order_by(merged.c.due_at, merged.c.id).limit(params.limit + 1)
    rows = list((await session.execute(stmt)).all())
    has_more = len(rows) > params.limit
    rows = rows[: params.limit]
    next_cursor = encode_cursor(rows[-1].due_at, rows[-1].id) if has_more and rows else None
    task_ids = [row.id for row in rows if row.kind == "task"]
    customer_ids = [row.id for row in rows if row.kind == "followup"]
    loaded = {
        task.id: task
        for task in (await session.scalars(select(Task).where(Task.id.in_(task_ids)))).all()
    }
    names = {
        row.id: row.name
        for row in await session.execute(
            select(Customer.id, Customer.name).where(Customer.id.in_(customer_ids))
        )
    }
    assigned = await assignees_of(session, task_ids)
    items: list[TaskView | FollowupItem] = [
        TaskView(loaded[row.id], assigned.get(row.id, []))
        if row.kind == "task"
        else FollowupItem(row.id, names[row.id], row.due_at, who)
        for row in rows
    ]
    return items, next_cursor
