"""One transaction per request, ended at the edge (`app.db.get_session`) before the response
is sent: a failed commit is never answered with a 2xx, a GET never writes, and everything a
request wrote — whichever services wrote it — goes or stays together."""

import uuid

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import func, insert, select, text

from app import main as app_main
from app.core.errors import ProblemError, install_error_handlers
from app.customers import service as customers_service
from app.customers.models import Customer
from app.customers.schemas import CustomerCreate
from app.db import get_engine, get_session, session_factory
from app.deps import Caller, Session
from app.org import departments as org_departments
from app.org.models import Company, Department
from app.org.schemas import DepartmentCreate
from tests.helpers import PASSWORD, client, signup

REFUSED_NAME = "Refused At Commit Co"


async def _count(model: type, *conditions) -> int:  # noqa: ANN001
    async with session_factory()() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*conditions))


# ---------- commit before the response ----------


async def _install_commit_time_refusal() -> None:
    """A constraint trigger checked at COMMIT (not at the INSERT): it refuses one customer."""
    async with get_engine().begin() as connection:
        await connection.execute(
            text(
                "CREATE OR REPLACE FUNCTION test_refuse_at_commit() RETURNS trigger"
                " LANGUAGE plpgsql AS $$ BEGIN"
                f" IF NEW.name = '{REFUSED_NAME}' THEN"
                "   RAISE EXCEPTION 'refused at commit by the test trigger';"
                " END IF; RETURN NULL; END $$"
            )
        )
        await connection.execute(
            text(
                "CREATE CONSTRAINT TRIGGER test_refuse_at_commit AFTER INSERT ON customers"
                " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW"
                " EXECUTE FUNCTION test_refuse_at_commit()"
            )
        )


async def _drop_commit_time_refusal() -> None:
    async with get_engine().begin() as connection:
        await connection.execute(text("DROP TRIGGER IF EXISTS test_refuse_at_commit ON customers"))
        await connection.execute(text("DROP FUNCTION IF EXISTS test_refuse_at_commit()"))


async def test_a_failed_commit_is_a_500_never_a_201_and_stores_nothing():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        await _install_commit_time_refusal()
        try:
            refused = await http.post("/v1/customers", json={"name": REFUSED_NAME}, headers=rep)
            accepted = await http.post("/v1/customers", json={"name": "Accepted Co"}, headers=rep)
        finally:
            await _drop_commit_time_refusal()
    assert refused.status_code == 500, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "internal_error"
    assert accepted.status_code == 201, accepted.text
    assert await _count(Customer, Customer.name == REFUSED_NAME) == 0
    assert await _count(Customer, Customer.name == "Accepted Co") == 1


# ---------- a tiny app on the real dependencies ----------

probe = FastAPI()
install_error_handlers(probe)


@probe.api_route("/companies", methods=["GET", "HEAD", "OPTIONS", "POST"])
async def write_a_company(session: Session, name: str) -> dict[str, bool]:
    """Writes whatever the method: the edge decides whether it stays."""
    await session.execute(insert(Company).values(id=uuid.uuid4(), name=name))
    return {"written": True}


@probe.post("/two-services")
async def two_services(session: Session, caller: Caller, name: str) -> dict[str, str]:
    """A department (org), then a customer (customers) that fails as a duplicate."""
    await org_departments.create_department(session, caller, DepartmentCreate(name=name))
    await customers_service.create_customer(session, caller, CustomerCreate(name=name))
    await customers_service.create_customer(session, caller, CustomerCreate(name=name))
    return {"unreachable": name}


@probe.post("/fails-late")
async def fails_late(session: Session, caller: Caller, name: str) -> None:
    await org_departments.create_department(session, caller, DepartmentCreate(name=name))
    raise ProblemError(409, "late_failure", "Written, then refused.")


@probe.get("/shares-the-session")
async def shares_the_session(caller: Caller, session: Session) -> dict[str, bool]:
    # The caller lookup ran on this very session (so its transaction has begun).
    return {"same_session": session.in_transaction()}


def probe_client() -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=probe, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
async def test_a_safe_method_cannot_write(method):
    name = f"safe-{method}"
    async with probe_client() as http:
        response = await http.request(method, "/companies", params={"name": name})
    assert response.status_code == 200, response.text
    assert await _count(Company, Company.name == name) == 0


async def test_the_same_route_as_post_persists():
    async with probe_client() as http:
        response = await http.post("/companies", params={"name": "posted"})
    assert response.status_code == 200, response.text
    assert await _count(Company, Company.name == "posted") == 1


async def test_two_services_share_the_request_transaction():
    async with client() as http:
        company = await signup(http)
    async with probe_client() as http:
        response = await http.post(
            "/two-services", params={"name": "Shared Fate"}, headers=company.admin
        )
        late = await http.post("/fails-late", params={"name": "Too Late"}, headers=company.admin)
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "duplicate_customer"
    assert late.status_code == 409 and late.json()["code"] == "late_failure"
    # Neither the department of the first service nor the customer of the second stayed.
    assert await _count(Department, Department.name.in_(["Shared Fate", "Too Late"])) == 0
    assert await _count(Customer, Customer.name == "Shared Fate") == 0


async def test_the_caller_lookup_uses_the_routes_session():
    async with client() as http:
        company = await signup(http)
    async with probe_client() as http:
        response = await http.get("/shares-the-session", headers=company.admin)
    assert response.status_code == 200, response.text
    assert response.json() == {"same_session": True}


def _session_scopes(dependant) -> set:  # noqa: ANN001
    scopes = set()
    for sub in dependant.dependencies:
        if sub.call is get_session:
            scopes.add(sub.scope)
        scopes |= _session_scopes(sub)
    return scopes


def test_every_route_asks_for_the_one_request_session():
    routes = [
        route
        for router in vars(app_main).values()
        if isinstance(router, APIRouter)
        for route in router.routes
        if isinstance(route, APIRoute)
    ]
    scopes = set()
    for route in routes:
        scopes |= _session_scopes(route.dependant)
    # One callable, one scope: FastAPI's per-request cache gives every dependency of a request
    # the same session, ended before the response is sent.
    assert len(routes) > 50
    assert scopes == {"function"}


# ---------- a real endpoint that fails late ----------


async def test_signup_refused_late_leaves_no_company_behind():
    async with client() as http:
        first = await signup(http, name="First Co")
        taken = first.admin_email
        response = await http.post(
            "/v1/signup",
            json={
                "company_name": "Second Co",
                "time_zone": "Asia/Shanghai",
                "admin_name": "Admin",
                "email": taken,
                "password": PASSWORD,
            },
        )
    # The company and its root department were written before the e-mail turned out taken.
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "email_taken"
    assert await _count(Company, Company.name == "Second Co") == 0
    assert await _count(Department, Department.name == "Second Co") == 0


# ---------- a unique index refusing a flush: a savepoint, and the request goes on ----------


async def test_a_unique_index_refusal_is_answered_inside_the_request(monkeypatch):
    """As if a concurrent request had created the same customer just after the duplicate
    check: the INSERT (and an UPDATE) fail on the unique index, only their savepoint is undone,
    and the same transaction still finds the existing customer for the 409."""
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        first = await http.post("/v1/customers", json={"name": "Taken Co"}, headers=rep)
        other = await http.post("/v1/customers", json={"name": "Other Co"}, headers=rep)
        assert first.status_code == other.status_code == 201
        real = customers_service.find_duplicates
        calls: list[str | None] = []

        async def misses_the_first_time(session, principal, name, phone, exclude_id=None):  # noqa: ANN001, ANN202
            calls.append(name)
            if len(calls) == 1:
                return []  # the pre-check "ran before the other request committed"
            return await real(session, principal, name, phone, exclude_id)

        monkeypatch.setattr(customers_service, "find_duplicates", misses_the_first_time)
        created = await http.post("/v1/customers", json={"name": "taken co"}, headers=rep)
        calls.clear()
        updated = await http.patch(
            f"/v1/customers/{other.json()['id']}",
            json={"name": "TAKEN CO"},
            headers=rep | {"If-Match": other.headers["etag"]},
        )
    for response in (created, updated):
        assert response.status_code == 409, response.text
        assert response.json()["code"] == "duplicate_customer"
        assert response.json()["existing_customer_id"] == first.json()["id"]
    assert await _count(Customer, Customer.name.in_(["Taken Co", "taken co", "TAKEN CO"])) == 1
    assert await _count(Customer, Customer.name == "Other Co") == 1
