"""Approval test helpers: flows over HTTP; records (contracts written by SQL) submitted through
the engine's service; an outcome of the tests' own that moves the record by SQL."""

import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.approvals import service
from app.approvals.models import Approval
from app.approvals.outcomes import ApprovalOutcome
from app.auth.principal import Principal
from app.core import clock
from app.db import session_factory


async def rows(sql: str, **params: Any) -> list[Any]:
    async with session_factory()() as session:
        return list((await session.execute(text(sql), params)).all())


async def scalar(sql: str, **params: Any) -> Any:
    async with session_factory()() as session:
        return (await session.execute(text(sql), params)).scalar()


async def create_flow(
    http: httpx.AsyncClient,
    admin: dict[str, str],
    steps: list[dict[str, Any]],
    *,
    kind: str = "contract",
    expect: int = 201,
    **fields: Any,
) -> dict[str, Any]:
    body = {"kind": kind, "name": f"{kind} flow", "steps": steps, **fields}
    response = await http.post("/v1/approval-flows", json=body, headers=admin)
    assert response.status_code == expect, response.text
    result: dict[str, Any] = response.json()
    return result


def manager(levels: int = 1, mode: str = "any") -> dict[str, Any]:
    return {"approvers": {"type": "manager", "levels": levels}, "mode": mode}


def admins(mode: str = "any") -> dict[str, Any]:
    return {"approvers": {"type": "role", "role": "admin"}, "mode": mode}


def users(*user_ids: str, mode: str = "any") -> dict[str, Any]:
    return {"approvers": {"type": "users", "user_ids": list(user_ids)}, "mode": mode}


async def principal_of(user_id: str) -> Principal:
    """The Principal the API would build for the user."""
    row = (
        await rows(
            "SELECT u.id, u.company_id, u.role, u.department_id, d.path, u.locale FROM users u"
            " LEFT JOIN departments d ON d.id = u.department_id WHERE u.id = :id",
            id=uuid.UUID(user_id),
        )
    )[0]
    return Principal(row[0], row[1], row[2], row[3], row[4], row[5])


async def insert_contract(
    company_id: str, customer_id: str, owner_id: str, *, status: str = "pending_approval"
) -> str:
    """A contract row written by SQL (its routes are another package's), waiting in approval."""
    contract_id = uuid.uuid4()
    at = clock.now()
    async with session_factory()() as session:
        await session.execute(
            text(
                "INSERT INTO contracts (id, company_id, customer_id, owner_id, number, title,"
                " amount, status, version, created_at, updated_at)"
                " VALUES (:id, :company_id, :customer_id, :owner_id, :number, :title, :amount,"
                " :status, 1, :at, :at)"
            ),
            {
                "id": contract_id,
                "company_id": uuid.UUID(company_id),
                "customer_id": uuid.UUID(customer_id),
                "owner_id": uuid.UUID(owner_id),
                "number": f"T-{contract_id.hex[:12]}",
                "title": "Test contract",
                "amount": Decimal("12800.00"),
                "status": status,
                "at": at,
            },
        )
        await session.commit()
    return str(contract_id)


async def contract_status(contract_id: str) -> str:
    status: str = await scalar(
        "SELECT status FROM contracts WHERE id = :id", id=uuid.UUID(contract_id)
    )
    return status


def _moving_to(status: str) -> Any:
    async def handler(session: AsyncSession, actor: Principal, approval: Approval) -> None:
        await session.execute(
            text("UPDATE contracts SET status = :status WHERE id = :id AND company_id = :c"),
            {"status": status, "id": approval.record_id, "c": approval.company_id},
        )

    return handler


# The tests' own outcome: approved → active, rejected → draft, withdrawn → 'draft' as well
# (by SQL, in the deciding transaction: a rollback undoes it with the decision).
CONTRACT_OUTCOME = ApprovalOutcome(
    approved=_moving_to("active"), rejected=_moving_to("draft"), withdrawn=_moving_to("draft")
)
OUTCOMES: Mapping[str, ApprovalOutcome] = {"contract": CONTRACT_OUTCOME}


async def submit(
    user_id: str,
    record_id: str,
    customer_id: str | None,
    *,
    kind: str = "contract",
    title: str = "HT-2027-000001 Test contract",
    amount: Decimal | None = Decimal("12800.00"),
) -> Approval | None:
    """Submit the record as the user through the service, committed."""
    principal = await principal_of(user_id)
    async with session_factory()() as session:
        approval = await service.submit(
            session,
            principal,
            kind=kind,
            record_type="contract",
            record_id=uuid.UUID(record_id),
            customer_id=uuid.UUID(customer_id) if customer_id else None,
            title=title,
            amount=amount,
            outcomes=OUTCOMES,
        )
        await session.commit()
        return approval
