"""Departments: the use cases, with the visibility rule, permission checks and transactions."""

import uuid

from sqlalchemy import ColumnElement, false, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core import client_ids
from app.core.clock import now
from app.core.concurrency import check_if_match
from app.core.errors import not_found
from app.core.pagination import PageParams, make_page, paginate
from app.db import savepoint
from app.org import errors
from app.org.models import Department, User
from app.org.schemas import DepartmentCreate, DepartmentUpdate


def department_depth(department: Department) -> int:
    """0 for a root; the path holds one '/<id>' segment per level."""
    return department.path.count("/") - 2


def department_visibility(principal: Principal) -> ColumnElement[bool]:
    """The one visibility rule for departments: admin all, manager the subtree, rep their own."""
    same_company = Department.company_id == principal.company_id
    if principal.is_admin:
        return same_company
    if principal.is_manager and principal.department_path:
        return same_company & Department.path.startswith(principal.department_path, autoescape=True)
    if principal.department_id is not None:
        return same_company & (Department.id == principal.department_id)
    return false()


async def list_departments(
    session: AsyncSession, principal: Principal, params: PageParams
) -> tuple[list[Department], str | None]:
    """Departments the caller may see, newest first."""
    stmt = paginate(
        select(Department).where(department_visibility(principal)),
        Department.created_at,
        Department.id,
        params,
    )
    rows = list((await session.execute(stmt)).scalars())
    return make_page(rows, params)


async def get_department(
    session: AsyncSession, principal: Principal, department_id: uuid.UUID
) -> Department:
    """One visible department, or 404."""
    department = (
        await session.execute(
            select(Department).where(
                Department.id == department_id, department_visibility(principal)
            )
        )
    ).scalar_one_or_none()
    if department is None:
        raise not_found("department")
    return department


async def company_department(
    session: AsyncSession, company_id: uuid.UUID, department_id: uuid.UUID
) -> Department:
    department = (
        await session.execute(
            select(Department).where(
                Department.id == department_id, Department.company_id == company_id
            )
        )
    ).scalar_one_or_none()
    if department is None or department.deactivated_at is not None:
        raise errors.unknown_department()
    return department


async def create_department(
    session: AsyncSession, principal: Principal, data: DepartmentCreate
) -> tuple[Department, bool]:
    """Admin: a new department under `parent_id` (or a new root); returns (department, created).
    The same client id and body again answer the department made (`created` False); an id
    taken otherwise (another body, another company) is 409 `id_conflict`."""
    existing = await client_ids.existing_create(
        session,
        Department,
        data.id,
        principal.company_id,
        lambda department: department.deactivated_at is None and client_ids.holds(department, data),
    )
    if existing is not None:
        return existing, False
    department = Department(
        id=data.id or uuid.uuid4(), company_id=principal.company_id, name=data.name, version=1
    )
    if data.parent_id is not None:
        parent = await company_department(session, principal.company_id, data.parent_id)
        department.parent_id = parent.id
        department.path = f"{parent.path}{department.id}/"
    else:
        department.path = f"/{department.id}/"
    try:
        async with savepoint(session):
            session.add(department)
    except IntegrityError as exc:
        raise client_ids.id_conflict() from exc
    return department, True


async def update_department(
    session: AsyncSession,
    principal: Principal,
    department_id: uuid.UUID,
    data: DepartmentUpdate,
    if_match: str | None,
) -> Department:
    """Admin: rename and/or move a department (with its whole subtree)."""
    department = await get_department(session, principal, department_id)
    check_if_match(if_match, department.version)
    fields = data.model_fields_set
    if "name" in fields and data.name is not None:
        department.name = data.name
    if "parent_id" in fields and data.parent_id != department.parent_id:
        old_path = department.path
        if data.parent_id is None:
            new_path = f"/{department.id}/"
        else:
            parent = await company_department(session, principal.company_id, data.parent_id)
            if parent.path.startswith(old_path):
                raise errors.department_cycle()
            new_path = f"{parent.path}{department.id}/"
        await session.execute(
            update(Department)
            .where(
                Department.company_id == principal.company_id,
                Department.path.startswith(old_path, autoescape=True),
            )
            .values(path=new_path + func.substr(Department.path, len(old_path) + 1))
            .execution_options(synchronize_session=False)
        )
        department.parent_id = data.parent_id
        department.path = new_path
    department.version += 1
    await session.flush()
    await session.refresh(department)
    return department


async def deactivate_department(
    session: AsyncSession, principal: Principal, department_id: uuid.UUID
) -> Department:
    """Admin: retire an empty department (no active users, no active sub-departments)."""
    department = await get_department(session, principal, department_id)
    if department.deactivated_at is not None:
        return department
    children = await session.scalar(
        select(func.count()).where(
            Department.parent_id == department.id, Department.deactivated_at.is_(None)
        )
    )
    members = await session.scalar(
        select(func.count()).where(User.department_id == department.id, User.is_active.is_(True))
    )
    if children or members:
        raise errors.department_not_empty(active_users=members, active_subdepartments=children)
    department.deactivated_at = now()
    department.version += 1
    await session.flush()
    return department
