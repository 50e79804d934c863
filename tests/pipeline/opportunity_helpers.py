"""Opportunity test helpers: the default pipeline's stages, stage requirements set by SQL (the
admin routes are another package's), opening and advancing opportunities."""

import json
from typing import Any

import httpx
from sqlalchemy import text

from app.db import session_factory


async def default_pipeline(company_id: str) -> dict[str, Any]:
    """The company's default pipeline: {"id", "stages": [{"id", "name", "kind", …}]}."""
    async with session_factory()() as session:
        pipeline_id = await session.scalar(
            text("SELECT id FROM pipelines WHERE company_id = :c AND is_default"), {"c": company_id}
        )
        rows = (
            await session.execute(
                text(
                    "SELECT id, name, kind, position, probability FROM pipeline_stages "
                    "WHERE pipeline_id = :p ORDER BY position"
                ),
                {"p": pipeline_id},
            )
        ).all()
    return {
        "id": str(pipeline_id),
        "stages": [
            {"id": str(r.id), "name": r.name, "kind": r.kind, "probability": r.probability}
            for r in rows
        ],
    }


async def set_stage(stage_id: str, **values: Any) -> None:
    """UPDATE pipeline_stages: required_fields / required_evidence lists, required_feedback
    (a list of questions), max_days, name, retired_at."""
    sets, params = [], {"id": stage_id}
    for name, value in values.items():
        if name == "required_feedback":
            sets.append(f"{name} = CAST(:{name} AS jsonb)")
            params[name] = json.dumps(value)
        else:
            sets.append(f"{name} = :{name}")
            params[name] = value
    async with session_factory()() as session:
        await session.execute(
            text(f"UPDATE pipeline_stages SET {', '.join(sets)} WHERE id = :id"), params
        )
        await session.commit()


async def set_pipeline(pipeline_id: str, **values: Any) -> None:
    sets = ", ".join(f"{name} = :{name}" for name in values)
    async with session_factory()() as session:
        await session.execute(
            text(f"UPDATE pipelines SET {sets} WHERE id = :id"), {"id": pipeline_id, **values}
        )
        await session.commit()


async def open_opportunity(
    http: httpx.AsyncClient, headers: dict, customer_id: str, name: str = "ERP 项目", **fields
) -> dict:
    response = await http.post(
        "/v1/opportunities",
        json={"customer_id": customer_id, "name": name, **fields},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def advance(
    http: httpx.AsyncClient, headers: dict, opportunity_id: str, to_stage_id: str, **body
) -> httpx.Response:
    return await http.post(
        f"/v1/opportunities/{opportunity_id}/advance",
        json={"to_stage_id": to_stage_id, **body},
        headers=headers,
    )


async def scalar(sql: str, **params: Any) -> Any:
    async with session_factory()() as session:
        return await session.scalar(text(sql), params)


async def execute(sql: str, **params: Any) -> None:
    async with session_factory()() as session:
        await session.execute(text(sql), params)
        await session.commit()
