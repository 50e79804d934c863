"""Lead-pool test helpers (H3)."""

import httpx


async def make_pool(
    http: httpx.AsyncClient, admin: dict, name: str = "北京区线索池", **fields
) -> dict:
    response = await http.post("/v1/lead-pools", json={"name": name, **fields}, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()


async def make_lead(http: httpx.AsyncClient, headers: dict, name: str = "张三", **fields) -> dict:
    response = await http.post("/v1/leads", json={"name": name, **fields}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def claim(http: httpx.AsyncClient, headers: dict, pool_id: str, lead_id: str):
    return await http.post(f"/v1/lead-pools/{pool_id}/leads/{lead_id}/claim", headers=headers)
