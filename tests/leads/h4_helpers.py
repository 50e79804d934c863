"""Helpers of the import, convert, campaign and lead-report tests: lead pools and leads
written straight into the database (the pools/leads API has its own tests)."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import text

from app.core.clock import now
from app.db import get_engine


async def make_pool(
    company_id: str,
    *,
    name: str | None = None,
    assignment: str = "manual",
    member_user_ids: tuple[str, ...] = (),
    member_department_ids: tuple[str, ...] = (),
    holding_cap: int | None = None,
) -> str:
    pool_id = str(uuid.uuid4())
    at = now()
    async with get_engine().begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO lead_pools (id, company_id, name, mode, assignment, holding_cap, "
                "version, created_at, updated_at) VALUES (:id, :company_id, :name, 'both', "
                ":assignment, :cap, 1, :at, :at)"
            ),
            {
                "id": pool_id,
                "company_id": company_id,
                "name": name or f"pool-{pool_id[:8]}",
                "assignment": assignment,
                "cap": holding_cap,
                "at": at,
            },
        )
        for user_id in member_user_ids:
            await connection.execute(
                text(
                    "INSERT INTO lead_pool_members (id, company_id, pool_id, user_id) "
                    "VALUES (gen_random_uuid(), :c, :p, :u)"
                ),
                {"c": company_id, "p": pool_id, "u": user_id},
            )
        for department_id in member_department_ids:
            await connection.execute(
                text(
                    "INSERT INTO lead_pool_members (id, company_id, pool_id, department_id) "
                    "VALUES (gen_random_uuid(), :c, :p, :d)"
                ),
                {"c": company_id, "p": pool_id, "d": department_id},
            )
    return pool_id


async def make_lead(
    company_id: str,
    pool_id: str,
    *,
    name: str = "张三",
    owner_id: str | None = None,
    created_at: datetime | None = None,
    **fields: Any,
) -> str:
    lead_id = str(uuid.uuid4())
    at = created_at or now()
    from app.leads import rules

    values = {
        "title": None,
        "company_name": None,
        "phone": None,
        "email": None,
        "source": "other",
        "campaign": None,
        "region": None,
        "industry": None,
        "address": None,
        "status": "new",
    } | fields
    async with get_engine().begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO leads (id, company_id, pool_id, owner_id, name, title, company_name, "
                "company_name_normalized, phone, phone_normalized, email, email_normalized, "
                "source, campaign, region, industry, address, status, claimed_at, version, "
                "created_at, updated_at) VALUES (:id, :company_id, :pool_id, :owner_id, :name, "
                ":title, :company_name, :company_key, :phone, :phone_key, :email, :email_key, "
                ":source, :campaign, :region, :industry, :address, :status, :claimed_at, 1, "
                ":at, :at)"
            ),
            {
                "id": lead_id,
                "company_id": company_id,
                "pool_id": pool_id,
                "owner_id": owner_id,
                "name": name,
                **values,
                "company_key": rules.normalise_company_name(values["company_name"]),
                "phone_key": rules.normalise_phone(values["phone"]),
                "email_key": rules.normalise_email(values["email"]),
                "claimed_at": at if owner_id else None,
                "at": at,
            },
        )
    return lead_id


async def make_followup(
    company_id: str, user_id: str, lead_id: str, at: datetime, customer_id: str | None = None
) -> str:
    followup_id = str(uuid.uuid4())
    async with get_engine().begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO followups (id, company_id, user_id, customer_id, lead_id, kind, "
                "text, request_hash, version, created_at, updated_at) VALUES (:id, :c, :u, "
                ":customer_id, :lead_id, 'call', 'called', 'x', 1, :at, :at)"
            ),
            {
                "id": followup_id,
                "c": company_id,
                "u": user_id,
                "customer_id": customer_id,
                "lead_id": lead_id,
                "at": at,
            },
        )
    return followup_id


async def scalar(sql: str, **params: Any) -> Any:
    async with get_engine().begin() as connection:
        return (await connection.execute(text(sql), params)).scalar()


async def rows(sql: str, **params: Any) -> list[Any]:
    async with get_engine().begin() as connection:
        return list((await connection.execute(text(sql), params)).all())


async def execute(sql: str, **params: Any) -> None:
    async with get_engine().begin() as connection:
        await connection.execute(text(sql), params)


async def subscribe(company_id: str, *event_types: str) -> str:
    """A webhook row subscribed to the event types (deliveries are only counted here)."""
    webhook_id = str(uuid.uuid4())
    await execute(
        "INSERT INTO webhooks (id, company_id, url, event_types, secret, active, version, "
        "created_at, updated_at) VALUES (:id, :c, 'https://hooks.example.test/x', :types, "
        "'s3cret', true, 1, now(), now())",
        id=webhook_id,
        c=company_id,
        types=list(event_types),
    )
    return webhook_id


async def deliveries(company_id: str, event_type: str) -> list[dict[str, Any]]:
    found = await rows(
        "SELECT payload FROM webhook_deliveries WHERE company_id = :c AND event_type = :t",
        c=company_id,
        t=event_type,
    )
    return [row.payload for row in found]
