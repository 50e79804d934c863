from fastapi import APIRouter

from app.main import create_app
from tests.helpers import client


async def test_unknown_route_is_404_problem():
    async with client() as http:
        response = await http.get("/v1/no-such-thing")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert body["code"] == "not_found"
        assert body["status"] == 404 and body["type"].endswith("/not_found")


async def test_wrong_method_is_405_problem():
    async with client() as http:
        response = await http.delete("/v1/signup")
        assert response.status_code == 405
        assert response.json()["code"] == "method_not_allowed"
        assert "POST" in response.headers["allow"]


async def test_validation_failure_is_422_with_field_errors():
    async with client() as http:
        response = await http.post("/v1/signup", json={"company_name": "", "email": "not-an-email"})
        assert response.status_code == 422
        body = response.json()
        assert body["code"] == "validation_failed"
        locations = {tuple(error["loc"]) for error in body["errors"]}
        assert ("body", "email") in locations and ("body", "password") in locations


async def test_malformed_json_is_422_not_500():
    async with client() as http:
        response = await http.post(
            "/v1/signup", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert response.status_code == 422
        assert response.json()["code"] == "validation_failed"


async def test_unhandled_exception_is_500_problem_without_internals():
    app = create_app()
    router = APIRouter()

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret connection string postgres://user:pw@db")

    app.include_router(router)
    import httpx

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "internal_error"
    assert "secret" not in response.text and "Traceback" not in response.text


async def test_request_id_is_echoed_or_assigned():
    async with client() as http:
        echoed = await http.get("/healthz", headers={"X-Request-ID": "abc-123"})
        assert echoed.headers["x-request-id"] == "abc-123"
        assigned = await http.get("/healthz")
        assert len(assigned.headers["x-request-id"]) == 32
