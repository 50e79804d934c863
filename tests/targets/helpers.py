"""Target test helpers: targets through the API, records straight in SQL where the API is
long-winded (contracts, payments, won opportunities, converted leads)."""

from typing import Any

import httpx
from sqlalchemy import text

from app.db import session_factory


async def create_target(http: httpx.AsyncClient, headers: dict, **body: Any) -> dict:
    response = await http.post("/v1/targets", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def split(http: httpx.AsyncClient, headers: dict, target_id: str, **body: Any) -> list[dict]:
    response = await http.post(f"/v1/targets/{target_id}/split", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["items"]


async def get(http: httpx.AsyncClient, headers: dict, target_id: str) -> dict:
    response = await http.get(f"/v1/targets/{target_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def listed(http: httpx.AsyncClient, headers: dict, **params: Any) -> list[dict]:
    response = await http.get("/v1/targets", params={"limit": 100, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def execute(sql: str, **params: Any) -> None:
    async with session_factory()() as session:
        await session.execute(text(sql), params)
        await session.commit()


async def scalar(sql: str, **params: Any) -> Any:
    async with session_factory()() as session:
        return await session.scalar(text(sql), params)
