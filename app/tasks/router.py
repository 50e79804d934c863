"""HTTP: tasks (日程/待办)."""

import uuid
from datetime import datetime

from fastapi import APIRouter, Query, Response

from app.core.clock import now
from app.core.concurrency import IfMatch, etag_for
from app.core.errors import problem_responses
from app.core.pagination import Page, json_response
from app.core.strict import QueryBool
from app.deps import Caller, Paging, Session
from app.tasks import service as tasks
from app.tasks.schemas import DueFilter, TaskCreate, TaskKind, TaskOut, TaskUpdate
from app.tasks.service import FollowupItem, TaskView

router = APIRouter(tags=["tasks"])


def task_out(found: TaskView | FollowupItem, at: datetime) -> TaskOut:
    """A task, or a customer's planned follow-up as a read-only item."""
    if isinstance(found, FollowupItem):
        return TaskOut(
            id=found.customer_id,
            kind="followup",
            read_only=True,
            title=found.name,
            note=None,
            due_at=found.due_at,
            customer_id=found.customer_id,
            opportunity_id=None,
            lead_id=None,
            assignee_ids=[found.owner_id],
            remind_before_min=None,
            reminded_at=None,
            done=False,
            done_at=None,
            done_by=None,
            overdue=found.due_at < at,
            created_by=None,
            version=None,
            created_at=None,
            updated_at=None,
        )
    task = found.task
    return TaskOut(
        id=task.id,
        kind="task",
        read_only=False,
        title=task.title,
        note=task.note,
        due_at=task.due_at,
        customer_id=task.customer_id,
        opportunity_id=task.opportunity_id,
        lead_id=task.lead_id,
        assignee_ids=found.assignee_ids,
        remind_before_min=task.remind_before_min,
        reminded_at=task.reminded_at,
        done=task.done_at is not None,
        done_at=task.done_at,
        done_by=task.done_by,
        overdue=task.done_at is None and task.due_at < at,
        created_by=task.created_by,
        version=task.version,
        created_at=task.created_at,
        updated_at=task.updated_at,
    )


@router.post(
    "/v1/tasks",
    operation_id="createTask",
    status_code=201,
    response_model=TaskOut,
    summary="Add a task",
    responses={
        200: {"model": TaskOut, "description": "Retry with the same id and body"},
        **problem_responses(401, 403, 404, 409, 422),
    },
)
async def create_task(
    body: TaskCreate, response: Response, principal: Caller, session: Session
) -> TaskOut:
    """A to-do with a due time, optionally on a customer, opportunity or lead the caller sees
    (else 404). Assignees default to the caller; reps assign only themselves, managers the
    people of their subtree, admins anyone (403 `assignee_not_allowed`; not an active user of
    the company: 422 `unknown_assignee`). Every assignee but the caller gets `task_assigned`.
    With `remind_before_min`, `task_due` goes to every assignee once, that many minutes
    before the due time."""
    found, created = await tasks.create_task(session, principal, body)
    if not created:
        response.status_code = 200
    response.headers["ETag"] = etag_for(found.task.version)
    return task_out(found, now())


@router.get(
    "/v1/tasks",
    operation_id="listTasks",
    response_model=Page[TaskOut],
    summary="List a person's tasks and planned follow-ups, soonest due first",
    responses=problem_responses(401, 404, 422),
)
async def list_tasks(
    *,
    params: Paging,
    due: DueFilter | None = Query(
        None,
        description="`today`, `week` (the company's week) in company time; `overdue`: not "
        "done and past due.",
    ),
    user: uuid.UUID | None = Query(
        None, description="Managers: someone of their subtree; admins: anyone (default: you)."
    ),
    done: QueryBool | None = Query(None),
    kind: TaskKind | None = Query(None),
    principal: Caller,
    session: Session,
) -> Response:
    """The tasks the person is an assignee of, and — as read-only items of kind `followup` —
    the planned next follow-up (`next_followup_at`, set by their latest follow-up) of each
    customer they own: recording a follow-up moves or clears it. A rep asking for another
    user: 404."""
    found, next_cursor = await tasks.list_tasks(
        session, principal, params, due=due, user_id=user, done=done, kind=kind
    )
    at = now()
    return json_response(
        Page[TaskOut](items=[task_out(item, at) for item in found], next_cursor=next_cursor)
    )


@router.get(
    "/v1/tasks/{task_id}",
    operation_id="getTask",
    response_model=TaskOut,
    summary="Get a task",
    responses=problem_responses(401, 404, 422),
)
async def get_task(
    task_id: uuid.UUID, response: Response, principal: Caller, session: Session
) -> TaskOut:
    """Its creator and assignees, the managers above them and admins see it; else 404."""
    found = await tasks.get_task(session, principal, task_id)
    response.headers["ETag"] = etag_for(found.task.version)
    return task_out(found, now())


@router.patch(
    "/v1/tasks/{task_id}",
    operation_id="updateTask",
    response_model=TaskOut,
    summary="Edit a task, or mark it done or undone",
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
async def update_task(
    *,
    task_id: uuid.UUID,
    body: TaskUpdate,
    response: Response,
    if_match: IfMatch = None,
    principal: Caller,
    session: Session,
) -> TaskOut:
    """`If-Match` required (428 without, 412 when stale). `done: true` marks it done (now, by
    you; a done task is never reminded), `false` undone. A new `due_at` or
    `remind_before_min` re-arms the reminder. `assignee_ids` replaces the assignees under the
    create rules; those added get `task_assigned`."""
    found = await tasks.update_task(session, principal, task_id, body, if_match)
    response.headers["ETag"] = etag_for(found.task.version)
    return task_out(found, now())


@router.delete(
    "/v1/tasks/{task_id}",
    operation_id="deleteTask",
    status_code=204,
    summary="Delete a task (soft)",
    responses=problem_responses(401, 404, 422),
)
async def delete_task(task_id: uuid.UUID, principal: Caller, session: Session) -> Response:
    """Whoever sees it."""
    await tasks.delete_task(session, principal, task_id)
    return Response(status_code=204)
