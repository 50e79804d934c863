"""Sign-in limits: by the real client address (trusted proxies only), per account across
addresses, and per address across accounts."""

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.config import get_settings
from app.main import create_app
from tests.helpers import PASSWORD, signup

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def configured(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[pytest.MonkeyPatch]:
    """Set OUTFIELD_* variables with `configured.setenv`, then build an app with `_client()`."""
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()


def _client() -> httpx.AsyncClient:
    """A client on a new app built from the current settings (the socket peer is 127.0.0.1)."""
    get_settings.cache_clear()
    transport = httpx.ASGITransport(app=create_app(), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def _attempt(
    http: httpx.AsyncClient,
    username: str,
    password: str = "not-the-password",
    forwarded_for: str | None = None,
) -> httpx.Response:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return await http.post(
        "/v1/auth/token", data={"username": username, "password": password}, headers=headers
    )


async def test_without_trusted_proxies_x_forwarded_for_is_ignored(configured):
    configured.setenv("OUTFIELD_LOGIN_RATE_LIMIT", "3")
    async with _client() as http:
        statuses = [
            (
                await _attempt(http, "victim@example.test", forwarded_for=f"198.51.100.{i}")
            ).status_code
            for i in range(4)
        ]
        assert statuses == [401, 401, 401, 429]


async def test_behind_a_trusted_proxy_the_client_is_the_right_most_untrusted_address(configured):
    configured.setenv("OUTFIELD_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8")
    configured.setenv("OUTFIELD_LOGIN_RATE_LIMIT", "2")
    async with _client() as http:
        # Whatever the client writes to the left, the proxies' own entries name 203.0.113.7.
        spoofed = [
            "1.1.1.1, 203.0.113.7",
            "2.2.2.2, 203.0.113.7, 10.1.2.3",
            "evil, 203.0.113.7",
        ]
        statuses = [
            (await _attempt(http, "victim@example.test", forwarded_for=f)).status_code
            for f in spoofed
        ]
        assert statuses == [401, 401, 429]
        limited = await _attempt(http, "victim@example.test", forwarded_for=spoofed[0])
        assert limited.json()["code"] == "login_rate_limited"
        assert int(limited.headers["retry-after"]) > 0
        # Another real client has a budget of its own.
        other = await _attempt(http, "victim@example.test", forwarded_for="203.0.113.8")
        assert other.status_code == 401


async def test_one_account_is_limited_across_addresses(configured):
    configured.setenv("OUTFIELD_TRUSTED_PROXIES", "127.0.0.1")
    configured.setenv("OUTFIELD_LOGIN_ACCOUNT_FAILURE_LIMIT", "3")
    async with _client() as http:
        company = await signup(http)
        statuses = [
            (await _attempt(http, company.admin_email, forwarded_for=f"198.51.100.{i}")).status_code
            for i in range(4)
        ]
        assert statuses == [401, 401, 401, 429]
        # Even the right password waits: the limit answers before any password is checked.
        right = await _attempt(http, company.admin_email, PASSWORD, forwarded_for="192.0.2.1")
        assert right.status_code == 429
        assert right.json()["code"] == "login_rate_limited"
        assert int(right.headers["retry-after"]) > 0


async def test_one_password_sprayed_over_many_accounts_is_limited(configured):
    configured.setenv("OUTFIELD_LOGIN_CLIENT_FAILURE_LIMIT", "3")
    async with _client() as http:
        statuses = [
            (await _attempt(http, f"user{i}@example.test", "Summer2026!")).status_code
            for i in range(4)
        ]
        assert statuses == [401, 401, 401, 429]


async def test_successful_sign_ins_are_not_failures(configured):
    configured.setenv("OUTFIELD_LOGIN_CLIENT_FAILURE_LIMIT", "2")
    configured.setenv("OUTFIELD_LOGIN_ACCOUNT_FAILURE_LIMIT", "2")
    async with _client() as http:
        company = await signup(http)
        for _ in range(4):
            assert (await _attempt(http, company.admin_email, PASSWORD)).status_code == 200
        assert (await _attempt(http, company.admin_email)).status_code == 401


def test_uvicorn_is_started_without_its_own_proxy_headers():
    """uvicorn believes X-Forwarded-For from 127.0.0.1 unless told not to, before the app
    sees the request: every launcher turns that off (the app decides, by its setting)."""
    launchers = {
        "scripts/run.sh": (ROOT / "scripts/run.sh").read_text(),
        "Dockerfile": (ROOT / "Dockerfile").read_text(),
        "compose.yaml": (ROOT / "compose.yaml").read_text(),
    }
    for name, text in launchers.items():
        lines = [
            line
            for line in text.splitlines()
            if re.search(r"uvicorn\W+app\.main:app", line) and not line.lstrip().startswith("#")
        ]
        assert lines, name
        assert all("--no-proxy-headers" in line for line in lines), name
