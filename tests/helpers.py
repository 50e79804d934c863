"""Shared test helpers: an HTTP client on the app, companies, people and tokens."""

import uuid
from dataclasses import dataclass, field

import httpx

from app.main import app

PASSWORD = "correct-horse-battery"


def client() -> httpx.AsyncClient:
    """An HTTP client talking to the app in-process (server errors come back as 500s)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def login(http: httpx.AsyncClient, email: str, password: str = PASSWORD) -> dict:
    response = await http.post("/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


@dataclass
class Company:
    """A signed-up company: its admin's token and a way to add people and departments."""

    http: httpx.AsyncClient
    id: str
    root_department_id: str
    admin_id: str
    admin_token: str
    admin_email: str
    emails: dict[str, str] = field(default_factory=dict)

    @property
    def admin(self) -> dict[str, str]:
        return bearer(self.admin_token)

    async def relogin_admin(self) -> dict[str, str]:
        """Sign the admin in again (after the clock moved past the token's life)."""
        self.admin_token = (await login(self.http, self.admin_email))["access_token"]
        return self.admin

    async def department(self, name: str, parent_id: str | None = None) -> str:
        response = await self.http.post(
            "/v1/departments",
            json={"name": name, "parent_id": parent_id or self.root_department_id},
            headers=self.admin,
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    async def user(
        self, role: str = "rep", department_id: str | None = None, name: str | None = None
    ) -> tuple[str, dict[str, str]]:
        """Create a user and sign them in; returns (user id, auth headers)."""
        email = f"{role}-{uuid.uuid4().hex[:10]}@example.test"
        response = await self.http.post(
            "/v1/users",
            json={
                "email": email,
                "name": name or email,
                "role": role,
                "department_id": department_id or self.root_department_id,
                "password": PASSWORD,
            },
            headers=self.admin,
        )
        assert response.status_code == 201, response.text
        tokens = await login(self.http, email)
        self.emails[response.json()["id"]] = email
        return response.json()["id"], bearer(tokens["access_token"])

    async def relogin(self, user_id: str) -> dict[str, str]:
        """Fresh auth headers for a user made by `user()` (after the clock moved on)."""
        return bearer((await login(self.http, self.emails[user_id]))["access_token"])


async def signup(
    http: httpx.AsyncClient, name: str = "Acme", time_zone: str = "Asia/Shanghai"
) -> Company:
    email = f"admin-{uuid.uuid4().hex[:10]}@example.test"
    response = await http.post(
        "/v1/signup",
        json={
            "company_name": name,
            "time_zone": time_zone,
            "admin_name": "Admin",
            "email": email,
            "password": PASSWORD,
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    tokens = await login(http, email)
    return Company(
        http=http,
        id=body["company"]["id"],
        root_department_id=body["user"]["department_id"],
        admin_id=body["user"]["id"],
        admin_token=tokens["access_token"],
        admin_email=email,
    )
