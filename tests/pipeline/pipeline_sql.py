"""Opportunities and stage history written by SQL (their routes are another package's), for the
pipeline admin and report tests."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import text

from app.core import clock
from app.db import session_factory


async def rows(sql: str, **params: Any) -> list[Any]:
    async with session_factory()() as session:
        return list((await session.execute(text(sql), params)).all())


async def execute(sql: str, **params: Any) -> None:
    async with session_factory()() as session:
        await session.execute(text(sql), params)
        await session.commit()


async def default_pipeline(http: httpx.AsyncClient, headers: dict) -> dict:
    """The default pipeline with its stages (GET /v1/pipelines/{id})."""
    listed = (await http.get("/v1/pipelines", headers=headers)).json()
    default = next(p for p in listed if p["is_default"])
    return (await http.get(f"/v1/pipelines/{default['id']}", headers=headers)).json()


async def insert_opportunity(
    company_id: str,
    customer_id: str,
    pipeline_id: str,
    stage_id: str,
    owner_id: str,
    *,
    amount: str | None = None,
    expected_close_date: date | None = None,
    status: str = "open",
    created_at: datetime | None = None,
    closed_at: datetime | None = None,
    deleted: bool = False,
) -> str:
    at = created_at or clock.now()
    opportunity_id = str(uuid.uuid4())
    async with session_factory()() as session:
        await session.execute(
            text(
                "INSERT INTO opportunities (id, company_id, customer_id, pipeline_id, stage_id,"
                " name, amount, expected_close_date, owner_id, status, stage_entered_at,"
                " closed_at, version, created_at, updated_at, deleted_at)"
                " VALUES (:id, :company_id, :customer_id, :pipeline_id, :stage_id, :name,"
                " :amount, :expected_close_date, :owner_id, :status, :at, :closed_at, 1, :at,"
                " :at, :deleted_at)"
            ),
            {
                "id": opportunity_id,
                "company_id": company_id,
                "customer_id": customer_id,
                "pipeline_id": pipeline_id,
                "stage_id": stage_id,
                "name": f"deal {opportunity_id[:6]}",
                "amount": Decimal(amount) if amount is not None else None,
                "expected_close_date": expected_close_date,
                "owner_id": owner_id,
                "status": status,
                "at": at,
                "closed_at": closed_at,
                "deleted_at": at if deleted else None,
            },
        )
        await session.commit()
    return opportunity_id


async def insert_move(
    company_id: str,
    opportunity_id: str,
    from_stage: dict | None,
    to_stage: dict,
    at: datetime,
    seconds: int | None = None,
) -> None:
    """A stage_history row (stages as GET /v1/pipelines/{id} gives them: id and name)."""
    async with session_factory()() as session:
        await session.execute(
            text(
                "INSERT INTO stage_history (id, company_id, opportunity_id, from_stage_id,"
                " to_stage_id, from_stage_name, to_stage_name, at, seconds_in_previous)"
                " VALUES (:id, :company_id, :opportunity_id, :from_id, :to_id, :from_name,"
                " :to_name, :at, :seconds)"
            ),
            {
                "id": str(uuid.uuid4()),
                "company_id": company_id,
                "opportunity_id": opportunity_id,
                "from_id": from_stage["id"] if from_stage else None,
                "to_id": to_stage["id"],
                "from_name": from_stage["name"] if from_stage else None,
                "to_name": to_stage["name"],
                "at": at,
                "seconds": seconds,
            },
        )
        await session.commit()
