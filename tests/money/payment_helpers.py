"""Helpers of the payment-plan, payment and receivables tests: a company with a department
tree and a contract written straight in SQL (so these tests need no contracts API)."""

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import text

from app.db import session_factory
from tests.customers.helpers import create_customer
from tests.helpers import Company, signup


async def execute(sql: str, **params: Any) -> None:
    async with session_factory()() as session:
        await session.execute(text(sql), params)
        await session.commit()


async def one(sql: str, **params: Any) -> Any:
    async with session_factory()() as session:
        return (await session.execute(text(sql), params)).one()


async def insert_contract(
    company_id: str,
    customer_id: str,
    owner_id: str,
    amount: str,
    *,
    status: str = "active",
    number: str | None = None,
) -> str:
    contract_id = str(uuid.uuid4())
    await execute(
        "INSERT INTO contracts (id, company_id, customer_id, owner_id, number, title, amount,"
        " status, created_at, updated_at)"
        " VALUES (:id, :c, :cu, :o, :n, '合同', :a, :s, now(), now())",
        id=contract_id,
        c=company_id,
        cu=customer_id,
        o=owner_id,
        n=number or f"HT-T-{contract_id[:8]}",
        a=Decimal(amount),
        s=status,
    )
    return contract_id


async def totals(contract_id: str) -> tuple[Decimal, Decimal]:
    """(committed, received) of a contract."""
    row = await one("SELECT committed, received FROM contracts WHERE id = :id", id=contract_id)
    return row.committed, row.received


@dataclass
class World:
    company: Company
    owner_id: str
    owner: dict[str, str]
    bystander: dict[str, str]
    collaborator: dict[str, str]
    east_manager: dict[str, str]
    west_manager: dict[str, str]
    outsider: dict[str, str]
    customer_id: str

    @property
    def admin(self) -> dict[str, str]:
        return self.company.admin

    async def contract(self, amount: str, **kwargs: Any) -> str:
        return await insert_contract(
            self.company.id, self.customer_id, self.owner_id, amount, **kwargs
        )


async def world(http: httpx.AsyncClient, time_zone: str = "Asia/Shanghai") -> World:
    """Owner (rep in East Team), a collaborator (rep in West), a bystander rep in East Team,
    the East manager (above the owner), the West manager (a sibling), another company's
    admin; a customer owned by the owner."""
    company = await signup(http, time_zone=time_zone)
    east = await company.department("East")
    east_team = await company.department("East Team", east)
    west = await company.department("West")
    owner_id, owner = await company.user("rep", east_team)
    collaborator_id, collaborator = await company.user("rep", west)
    _, bystander = await company.user("rep", east_team)
    _, east_manager = await company.user("manager", east)
    _, west_manager = await company.user("manager", west)
    customer = await create_customer(http, owner, f"Money Co {uuid.uuid4().hex[:6]}")
    added = await http.post(
        f"/v1/customers/{customer['id']}/collaborators",
        json={"user_id": collaborator_id, "role": "technical"},
        headers=owner,
    )
    assert added.status_code == 200, added.text
    other = await signup(http, "Other Co")
    return World(
        company=company,
        owner_id=owner_id,
        owner=owner,
        bystander=bystander,
        collaborator=collaborator,
        east_manager=east_manager,
        west_manager=west_manager,
        outsider=other.admin,
        customer_id=customer["id"],
    )
