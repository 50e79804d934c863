"""Customer test helpers."""

import httpx

BEIJING = {"lat": 39.9087, "lng": 116.3975}


async def create_customer(http: httpx.AsyncClient, headers: dict, name: str, **fields) -> dict:
    response = await http.post("/v1/customers", json={"name": name, **fields}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def set_rules(http: httpx.AsyncClient, admin: dict, **rules) -> dict:
    body = {"holding_cap": 20, "won_exempt": True, "department_caps": []} | rules
    etag = (await http.get("/v1/pool-rules", headers=admin)).headers["etag"]
    response = await http.put("/v1/pool-rules", json=body, headers=admin | {"If-Match": etag})
    assert response.status_code == 200, response.text
    return response.json()


async def default_pool(http: httpx.AsyncClient, headers: dict) -> dict:
    pools = (await http.get("/v1/pools", headers=headers)).json()
    return next(p for p in pools if p["is_default"])


async def win_customer(http: httpx.AsyncClient, headers: dict, customer_id: str) -> dict:
    """Record a deal on the customer: the one way it becomes `won`."""
    response = await http.post(f"/v1/customers/{customer_id}/deals", json={}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()
