"""HTTP: signup, me, departments, users."""

import uuid

from fastapi import APIRouter, Query, Response

from app.composition import ORG_REACTIONS
from app.core.concurrency import IfMatch, etag_for
from app.core.errors import problem_responses
from app.core.pagination import Page
from app.core.strict import QueryBool
from app.deps import AdminCaller, Caller, Paging, Session
from app.org import departments, users
from app.org import signup as signup_service
from app.org.models import Department, User
from app.org.schemas import (
    CompanyOut,
    DepartmentCreate,
    DepartmentOut,
    DepartmentUpdate,
    MeOut,
    Role,
    SignupIn,
    SignupOut,
    UserCreate,
    UserDeactivate,
    UserOut,
    UserUpdate,
)
from app.privacy.executives import hidden_contacts

router = APIRouter()
AUTH_ERRORS = (401, 403, 404, 422)


def department_out(department: Department) -> DepartmentOut:
    return DepartmentOut(
        id=department.id,
        name=department.name,
        parent_id=department.parent_id,
        depth=departments.department_depth(department),
        active=department.deactivated_at is None,
        version=department.version,
        created_at=department.created_at,
        updated_at=department.updated_at,
    )


def user_out(
    user: User, response: Response | None = None, hidden: frozenset[uuid.UUID] = frozenset()
) -> UserOut:
    """The API view of a user; an executive in `hidden` without their phone and e-mail."""
    if response is not None:
        response.headers["ETag"] = etag_for(user.version)
    out = UserOut.model_validate(user)
    if user.id in hidden:
        out.email = out.phone = None
    return out


@router.post(
    "/v1/signup",
    status_code=201,
    response_model=SignupOut,
    tags=["org"],
    summary="Create a company and its first admin",
    responses=problem_responses(403, 409, 422),
)
async def signup(body: SignupIn, session: Session) -> SignupOut:
    """Turned off by `OUTFIELD_SIGNUP_ENABLED=false` (403 `signup_disabled`)."""
    company, user = await signup_service.signup(session, body, ORG_REACTIONS)
    return SignupOut(company=CompanyOut.model_validate(company), user=UserOut.model_validate(user))


@router.get(
    "/v1/me",
    operation_id="getMe",
    response_model=MeOut,
    tags=["org"],
    summary="Who am I",
    responses=problem_responses(401),
)
async def me(principal: Caller, session: Session) -> MeOut:
    """The caller, their company, department and role."""
    user, company, department = await users.get_me(session, principal)
    return MeOut(
        user=UserOut.model_validate(user),
        company=CompanyOut.model_validate(company),
        department=department_out(department) if department else None,
    )


# ---------- departments ----------


@router.get(
    "/v1/departments",
    response_model=Page[DepartmentOut],
    tags=["org"],
    summary="List departments",
    responses=problem_responses(401, 422),
)
async def list_departments(
    params: Paging,
    principal: Caller,
    session: Session,
) -> Page[DepartmentOut]:
    """Admin: all; manager: their subtree; rep: their own department."""
    rows, next_cursor = await departments.list_departments(session, principal, params)
    return Page[DepartmentOut](items=[department_out(d) for d in rows], next_cursor=next_cursor)


@router.post(
    "/v1/departments",
    status_code=201,
    response_model=DepartmentOut,
    tags=["org"],
    summary="Create a department",
    responses={
        200: {"model": DepartmentOut, "description": "Same client id and body: the existing one"},
        **problem_responses(401, 403, 409, 422),
    },
)
async def create_department(
    body: DepartmentCreate,
    response: Response,
    principal: AdminCaller,
    session: Session,
) -> DepartmentOut:
    """Admin only. `parent_id` null makes a root."""
    department, created = await departments.create_department(session, principal, body)
    if not created:
        response.status_code = 200
    response.headers["ETag"] = etag_for(department.version)
    return department_out(department)


@router.get(
    "/v1/departments/{department_id}",
    response_model=DepartmentOut,
    tags=["org"],
    summary="Get a department",
    responses=problem_responses(401, 404, 422),
)
async def get_department(
    department_id: uuid.UUID,
    response: Response,
    principal: Caller,
    session: Session,
) -> DepartmentOut:
    """404 when it is not visible to the caller."""
    department = await departments.get_department(session, principal, department_id)
    response.headers["ETag"] = etag_for(department.version)
    return department_out(department)


@router.patch(
    "/v1/departments/{department_id}",
    response_model=DepartmentOut,
    tags=["org"],
    summary="Rename or move a department",
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
async def update_department(
    *,
    department_id: uuid.UUID,
    body: DepartmentUpdate,
    response: Response,
    if_match: IfMatch = None,
    principal: AdminCaller,
    session: Session,
) -> DepartmentOut:
    """Admin only; `If-Match` required (428 without, 412 when stale). Moving takes the whole
    subtree along; moving under itself is 409."""
    department = await departments.update_department(
        session, principal, department_id, body, if_match
    )
    response.headers["ETag"] = etag_for(department.version)
    return department_out(department)


@router.post(
    "/v1/departments/{department_id}/deactivate",
    response_model=DepartmentOut,
    tags=["org"],
    summary="Deactivate an empty department",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def deactivate_department(
    department_id: uuid.UUID,
    principal: AdminCaller,
    session: Session,
) -> DepartmentOut:
    """Admin only; 409 `department_not_empty` while it has active users or sub-departments."""
    return department_out(
        await departments.deactivate_department(session, principal, department_id)
    )


# ---------- users ----------


@router.get(
    "/v1/users",
    response_model=Page[UserOut],
    tags=["org"],
    summary="List users",
    responses=problem_responses(401, 422),
)
async def list_users(
    *,
    params: Paging,
    department_id: uuid.UUID | None = Query(None),
    role: Role | None = Query(None),
    active: QueryBool | None = Query(None),
    principal: Caller,
    session: Session,
) -> Page[UserOut]:
    """Admin: the company; manager: their subtree; rep: their own department."""
    rows, next_cursor = await users.list_users(
        session, principal, params, department_id=department_id, role=role, active=active
    )
    hidden = await hidden_contacts(session, principal, rows)
    return Page[UserOut](items=[user_out(u, hidden=hidden) for u in rows], next_cursor=next_cursor)


@router.post(
    "/v1/users",
    status_code=201,
    response_model=UserOut,
    tags=["org"],
    summary="Create a user",
    responses={
        200: {"model": UserOut, "description": "Same client id and body: the existing one"},
        **problem_responses(401, 403, 409, 422),
    },
)
async def create_user(
    body: UserCreate,
    response: Response,
    principal: AdminCaller,
    session: Session,
) -> UserOut:
    """Admin only; 409 `email_taken` when the e-mail is in use."""
    user, created = await users.create_user(session, principal, body)
    if not created:
        response.status_code = 200
    return user_out(user, response)


@router.get(
    "/v1/users/{user_id}",
    response_model=UserOut,
    tags=["org"],
    summary="Get a user",
    responses=problem_responses(401, 404, 422),
)
async def get_user(
    user_id: uuid.UUID,
    response: Response,
    principal: Caller,
    session: Session,
) -> UserOut:
    """404 when the user is not visible to the caller; an executive above the caller shows no
    phone or e-mail."""
    user = await users.get_user(session, principal, user_id)
    return user_out(user, response, await hidden_contacts(session, principal, [user]))


@router.patch(
    "/v1/users/{user_id}",
    response_model=UserOut,
    tags=["org"],
    summary="Update or move a user",
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
async def update_user(
    *,
    user_id: uuid.UUID,
    body: UserUpdate,
    response: Response,
    if_match: IfMatch = None,
    principal: AdminCaller,
    session: Session,
) -> UserOut:
    """Admin only; `If-Match` required (428 without, 412 when stale). `is_executive` hides the
    user's phone and e-mail from the people below them."""
    return user_out(await users.update_user(session, principal, user_id, body, if_match), response)


@router.post(
    "/v1/users/{user_id}/deactivate",
    response_model=UserOut,
    tags=["org"],
    summary="Deactivate a user",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def deactivate_user(
    *,
    user_id: uuid.UUID,
    body: UserDeactivate | None = None,
    principal: AdminCaller,
    session: Session,
) -> UserOut:
    """Admin only. Revokes their tokens; customers go to the pool or to `successor_id`."""
    successor_id = body.successor_id if body else None
    return UserOut.model_validate(
        await users.deactivate_user(session, principal, user_id, successor_id, ORG_REACTIONS)
    )
