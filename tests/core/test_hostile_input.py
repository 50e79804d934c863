"""Hostile input (issue 12): NUL and control characters, dates at the ends of the calendar,
oversized fields and bodies — each a 422 or 413 problem naming what is wrong, never a 500, and
never the connection."""

# ruff: noqa: E501 — the case tables read best one case a line.

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn

from app.config import get_settings
from app.core import limits
from app.main import app
from tests.customers.helpers import BEIJING, create_customer
from tests.helpers import PASSWORD, Company, client, signup

NUL = "\x00"
NOW = "2026-03-02T09:00:00Z"


@dataclass
class World:
    http: httpx.AsyncClient
    company: Company
    customer_id: str

    @property
    def admin(self) -> dict[str, str]:
        return self.company.admin


@pytest.fixture
async def world() -> AsyncIterator[World]:
    async with client() as http:
        company = await signup(http)
        customer = await create_customer(http, company.admin, "Hostile Co", location=BEIJING)
        yield World(http, company, customer["id"])


def assert_invalid(response: httpx.Response, loc: list[Any]) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_failed"
    assert response.headers["content-type"].startswith("application/problem+json")
    found = [error["loc"] for error in body["errors"]]
    assert any(where[: len(loc)] == loc for where in found), found


def _fill(value: Any, swaps: dict[str, str]) -> Any:
    if isinstance(value, str):
        for old, new in swaps.items():
            value = value.replace(old, new)
        return value
    if isinstance(value, list):
        return [_fill(item, swaps) for item in value]
    if isinstance(value, dict):
        return {_fill(key, swaps): _fill(item, swaps) for key, item in value.items()}
    return value


async def send(world: World, method: str, path: str, body: Any, bad: str = "") -> httpx.Response:
    """`{customer}` and `{department}` in the path and body become the world's ids, `{bad}` in
    the body the bad text."""
    ids = {"{customer}": world.customer_id, "{department}": world.company.root_department_id}
    body = _fill(body, ids | {"{bad}": bad})
    return await world.http.request(method, _fill(path, ids), json=body, headers=world.admin)


# (method, path, body, loc of the field) — `{bad}` in a string is replaced by the bad text.
NUL_BODIES = [
    ("POST", "/v1/customers", {"name": "A{bad}"}, ["body", "name"]),
    ("POST", "/v1/customers", {"name": "A", "industry": "{bad}"}, ["body", "industry"]),
    ("POST", "/v1/customers", {"name": "A", "tags": ["ok", "{bad}"]}, ["body", "tags"]),
    ("POST", "/v1/customers", {"name": "A", "custom_fields": {"k": "{bad}"}}, ["body", "custom_fields"]),
    ("POST", "/v1/customers", {"name": "A", "custom_fields": {"k{bad}": 1}}, ["body", "custom_fields"]),
    ("POST", "/v1/customers/{customer}/contacts", {"name": "{bad}"}, ["body", "name"]),
    ("POST", "/v1/customers/{customer}/contacts", {"name": "C", "phones": ["1{bad}"]}, ["body", "phones"]),
    ("POST", "/v1/followups", {"customer_id": "{customer}", "kind": "call", "text": "x{bad}"}, ["body", "text"]),
    ("POST", "/v1/logs", {"text": "done{bad}"}, ["body", "text"]),
    ("POST", "/v1/checkins", {"customer_id": "{customer}", "location": BEIJING, "client_recorded_at": NOW, "note": "{bad}"}, ["body", "note"]),
    ("POST", "/v1/visit-plans", {"customer_id": "{customer}", "plan_date": "2026-03-02", "purpose": "{bad}"}, ["body", "purpose"]),
    ("POST", "/v1/customers/{customer}/deals", {"note": "{bad}"}, ["body", "note"]),
    ("POST", "/v1/customers/{customer}/release", {"reason": "{bad}"}, ["body", "reason"]),
    ("POST", "/v1/departments", {"name": "D{bad}", "parent_id": "{department}"}, ["body", "name"]),
    ("POST", "/v1/users", {"email": "u@example.test", "name": "{bad}", "password": PASSWORD}, ["body", "name"]),
    ("POST", "/v1/pools", {"name": "{bad}", "regions": ["上海"]}, ["body", "name"]),
    ("POST", "/v1/pools", {"name": "P", "regions": ["{bad}"]}, ["body", "regions"]),
    ("POST", "/v1/webhooks", {"url": "https://example.com/h", "event_types": ["customer.created"], "description": "{bad}"}, ["body", "description"]),
    ("POST", "/v1/devices", {"platform": "fcm", "token": "t{bad}"}, ["body", "token"]),
    ("PUT", "/v1/notifications/preferences", {"muted_kinds": ["{bad}"]}, ["body", "muted_kinds"]),
    ("POST", "/v1/me/password", {"current_password": "{bad}", "new_password": PASSWORD + "!"}, ["body", "current_password"]),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body", "loc"), NUL_BODIES)
async def test_nul_in_any_body_string_is_422_naming_the_field(world, method, path, body, loc):
    response = await send(world, method, path, body, NUL)
    assert_invalid(response, loc)


async def test_nothing_is_done_for_a_body_with_nul(world):
    response = await send(world, "POST", "/v1/customers", {"name": "Ghost", "tags": [NUL]})
    assert response.status_code == 422
    listed = await world.http.get("/v1/customers", headers=world.admin)
    assert [c["name"] for c in listed.json()["items"]] == ["Hostile Co"]


async def test_nul_in_signup_and_unpaired_surrogate_are_422():
    async with client() as http:
        body = {"company_name": "X" + NUL, "admin_name": "A", "email": "a@example.test"}
        response = await http.post("/v1/signup", json=body | {"password": PASSWORD})
        assert_invalid(response, ["body", "company_name"])
        # JSON may spell a lone surrogate; PostgreSQL (UTF-8) cannot store one.
        raw = b'{"company_name": "X\\ud800", "admin_name": "A", "email": "a@example.test", '
        raw += f'"password": "{PASSWORD}"'.encode() + b"}"
        response = await http.post(
            "/v1/signup", content=raw, headers={"content-type": "application/json"}
        )
        assert_invalid(response, ["body", "company_name"])


@pytest.mark.parametrize(
    ("path", "params", "loc"),
    [
        ("/v1/customers", {"q": NUL}, ["query", "q"]),
        ("/v1/customers", {"tag": "a" + NUL}, ["query", "tag"]),
        ("/v1/customers", {"industry": NUL}, ["query", "industry"]),
        ("/v1/customers", {"cf": "k:" + NUL}, ["query", "cf"]),
        ("/v1/customers", {"owner": NUL}, ["query", "owner"]),
        ("/v1/customers/duplicates", {"name": "A" + NUL}, ["query", "name"]),
        ("/v1/customers/duplicates", {"phone": NUL}, ["query", "phone"]),
        ("/v1/followups", {"cursor": NUL}, ["query", "cursor"]),
        ("/v1/admin/jobs", {"job": NUL}, ["query", "job"]),
    ],
)
async def test_nul_in_query_and_path_parameters_is_422_naming_them(world, path, params, loc):
    path = path.format(customer=world.customer_id)
    response = await world.http.get(path, params=params, headers=world.admin)
    assert_invalid(response, loc)


async def test_nul_in_a_text_path_parameter_is_422_naming_it(world):
    response = await world.http.post("/v1/admin/jobs/recycle%00/run", headers=world.admin)
    assert_invalid(response, ["path", "name"])


@pytest.mark.parametrize("field", ["username", "password"])
async def test_nul_in_login_form_fields_is_422(world, field):
    form = {"username": world.company.admin_email, "password": PASSWORD} | {field: "x" + NUL}
    response = await world.http.post("/v1/auth/token", data=form)
    assert_invalid(response, ["body", field])


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        ("/v1/customers", {"name": "Bell\x07"}, ["body", "name"]),
        ("/v1/customers", {"name": "A", "phone": "138\x1b0000"}, ["body", "phone"]),
        ("/v1/customers", {"name": "A", "tags": ["vip\x01"]}, ["body", "tags"]),
        ("/v1/customers/{customer}/contacts", {"name": "C", "phones": ["138\x08"]}, ["body", "phones"]),
        ("/v1/departments", {"name": "D\x7f", "parent_id": "{department}"}, ["body", "name"]),
        ("/v1/customers", {"name": "C1 \x85 control"}, ["body", "name"]),
    ],
)  # fmt: skip
async def test_control_characters_are_422(world, path, body, loc):
    assert_invalid(await send(world, "POST", path, body), loc)


async def test_multi_line_text_keeps_newlines_and_tabs(world):
    text = "Called them.\nThey want:\n\t- a demo\r\n\t- prices"
    body = {"customer_id": "{customer}", "kind": "call", "text": text}
    response = await send(world, "POST", "/v1/followups", body)
    assert response.status_code == 201, response.text
    assert response.json()["text"] == text


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        ("/v1/customers/{customer}/contacts", {"name": "C", "birthday": "8210-05-01"}, ["body", "birthday"]),
        ("/v1/customers/{customer}/contacts", {"name": "C", "birthday": "0001-01-01"}, ["body", "birthday"]),
        ("/v1/customers/{customer}/contacts", {"name": "C", "birthday": "2199-01-01"}, ["body", "birthday"]),
        ("/v1/logs", {"text": "t", "day": "0001-01-01"}, ["body", "day"]),
        ("/v1/logs", {"text": "t", "period": "monthly", "day": "9999-12-31"}, ["body", "day"]),
        ("/v1/visit-plans", {"customer_id": "{customer}", "plan_date": "9999-12-31"}, ["body", "plan_date"]),
        ("/v1/followups", {"customer_id": "{customer}", "kind": "call", "text": "t", "next_followup_at": "9999-12-31T23:59:59Z"}, ["body", "next_followup_at"]),
        ("/v1/checkins", {"customer_id": "{customer}", "location": BEIJING, "client_recorded_at": "0001-01-01T00:00:00+08:00"}, ["body", "client_recorded_at"]),
    ],
)  # fmt: skip
async def test_dates_at_the_ends_of_the_calendar_in_bodies_are_422(world, path, body, loc):
    assert_invalid(await send(world, "POST", path, body), loc)


async def test_contact_with_a_plausible_birthday_is_kept(world):
    body = {"name": "C", "phones": ["13800000000"], "birthday": "1990-02-28"}
    response = await send(world, "POST", "/v1/customers/{customer}/contacts", body)
    assert response.status_code == 201, response.text
    assert response.json()["birthday"] == "1990-02-28"


@pytest.mark.parametrize(
    ("path", "params", "loc"),
    [
        ("/v1/logs", {"from": "0001-01-01"}, ["query", "from"]),
        ("/v1/logs", {"to": "9999-12-31"}, ["query", "to"]),
        ("/v1/reports/visits", {"from": "0001-01-01", "to": "0001-12-31"}, ["query", "from"]),
        ("/v1/reports/visits", {"from": "9999-01-01", "to": "9999-12-31"}, ["query", "to"]),
        ("/v1/checkins", {"from": "0001-01-01T00:00:00Z"}, ["query", "from"]),
        ("/v1/checkins", {"to": "9999-12-31T23:59:59Z"}, ["query", "to"]),
        ("/v1/followups", {"from": "0001-01-01T00:00:00Z"}, ["query", "from"]),
        ("/v1/followups", {"to": "9999-12-31T23:59:59+14:00"}, ["query", "to"]),
        ("/v1/visit-plans", {"date": "9999-12-31"}, ["query", "date"]),
        (
            "/v1/pool/customers",
            {"recycled_since": "0001-01-01T00:00:00Z"},
            ["query", "recycled_since"],
        ),
    ],
)
async def test_dates_at_the_ends_of_the_calendar_in_filters_are_422(world, path, params, loc):
    assert_invalid(await world.http.get(path, params=params, headers=world.admin), loc)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/reports/visits", {"from": "1900-01-01", "to": "1900-12-31"}),
        ("/v1/reports/visits", {"from": "2200-01-01", "to": "2200-12-31"}),
        ("/v1/logs", {"from": "1900-01-01", "to": "2200-12-31"}),
        ("/v1/checkins", {"from": "1900-01-01T00:00:00Z", "to": "2200-12-31T23:59:59-12:00"}),
    ],
)
async def test_filters_at_the_bounds_still_answer(world, path, params):
    response = await world.http.get(path, params=params, headers=world.admin)
    assert response.status_code == 200, response.text


def _customer(**fields: Any) -> dict[str, Any]:
    return {"name": "Capped"} | fields


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        ("/v1/customers", _customer(custom_fields={"k": "x" * (limits.CUSTOM_FIELD_VALUE_MAX + 1)}), ["body", "custom_fields", "k"]),
        ("/v1/customers", _customer(custom_fields={"k" * (limits.CUSTOM_FIELD_KEY_MAX + 1): 1}), ["body", "custom_fields", "k" * (limits.CUSTOM_FIELD_KEY_MAX + 1)]),
        ("/v1/customers", _customer(custom_fields={f"k{i}": "x" * 1900 for i in range(10)}), ["body", "custom_fields"]),
        ("/v1/customers", _customer(tags=["x" * (limits.TAG_MAX + 1)]), ["body", "tags", 0]),
        ("/v1/customers/{customer}/contacts", {"name": "C", "phones": ["1" * (limits.PHONE_MAX + 1)]}, ["body", "phones", 0]),
        ("/v1/pools", {"name": "P", "regions": ["x" * (limits.SHORT_TEXT_MAX + 1)]}, ["body", "regions", 0]),
    ],
)  # fmt: skip
async def test_free_form_fields_are_capped(world, path, body, loc):
    assert_invalid(await send(world, "POST", path, body), loc)


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
async def test_non_finite_custom_field_numbers_are_422(world, number):
    # Python's JSON parser reads these JavaScript spellings; jsonb cannot store them.
    raw = '{"name": "N", "custom_fields": {"k": NUMBER}}'.replace("NUMBER", number)
    response = await world.http.post(
        "/v1/customers", content=raw, headers=world.admin | {"content-type": "application/json"}
    )
    assert_invalid(response, ["body", "custom_fields", "k"])


async def test_the_caps_are_in_the_openapi_document():
    schemas = app.openapi()["components"]["schemas"]
    fields = schemas["CustomerFields"]["properties"] if "CustomerFields" in schemas else None
    fields = fields or schemas["CustomerCreate"]["properties"]
    assert fields["tags"]["maxItems"] == limits.TAGS_MAX
    assert fields["tags"]["items"]["maxLength"] == limits.TAG_MAX
    custom = fields["custom_fields"]
    assert custom["maxProperties"] == limits.CUSTOM_FIELDS_MAX
    assert custom["propertyNames"]["maxLength"] == limits.CUSTOM_FIELD_KEY_MAX


async def test_a_body_over_the_cap_is_413_before_it_is_read(world):
    big = b'{"name": "' + b"x" * (20 * 1024 * 1024) + b'"}'
    response = await world.http.post(
        "/v1/customers", content=big, headers=world.admin | {"content-type": "application/json"}
    )
    assert response.status_code == 413, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "request_too_large"
    assert response.json()["max_bytes"] == get_settings().max_body_bytes


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/v1/customers", "application/json"),
        ("/v1/auth/token", "application/x-www-form-urlencoded"),
    ],
)
async def test_a_chunked_body_over_the_cap_is_413_while_it_streams(world, path, content_type):
    chunk = b" " * 65536
    sent = 0

    async def stream() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(64):  # 4 MiB, no Content-Length
            sent += 1
            yield chunk

    response = await world.http.post(
        path, content=stream(), headers=world.admin | {"content-type": content_type}
    )
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "request_too_large"
    assert sent < 64  # refused once past the cap, not after reading it all


async def test_an_upload_over_the_json_cap_is_left_to_the_upload_rule(world):
    # 2 MiB of a photo part: past the JSON cap, within the upload cap — the guard lets it by.
    files = {"file": ("p.jpg", b"\xff\xd8\xff" + b"\0" * (2 * 1024 * 1024), "image/jpeg")}
    response = await world.http.post("/v1/files", files=files, headers=world.admin)
    assert response.json().get("code") != "request_too_large", response.text


async def test_every_operation_with_a_body_documents_the_413():
    paths = app.openapi()["paths"]
    with_body = [
        (path, method)
        for path, item in paths.items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "requestBody" in operation
    ]
    assert with_body
    for path, method in with_body:
        response = paths[path][method]["responses"].get("413")
        assert response is not None, (path, method)
        assert "application/problem+json" in response["content"]


@contextlib.asynccontextmanager
async def live_server() -> AsyncIterator[str]:
    """The app on a real uvicorn (HTTP/1.1 keep-alive) on a free local port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 — uvicorn offers a flag, not an event
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def _local_port(response: httpx.Response) -> int:
    return response.extensions["network_stream"].get_extra_info("client_addr")[1]


async def test_a_malformed_request_keeps_the_keep_alive_connection():
    async with live_server() as base, httpx.AsyncClient(base_url=base) as http:
        before = await http.get("/healthz")
        assert before.status_code == 200
        for bad in (
            http.get("/v1/customers/duplicates", params={"name": NUL}),
            http.post("/v1/signup", json={"company_name": NUL}),
            http.post("/v1/auth/token", data={"username": NUL, "password": "x"}),
        ):
            response = await bad
            assert response.status_code == 422, response.text
            assert response.headers.get("connection", "").lower() != "close"
        after = await http.get("/healthz")
        assert after.status_code == 200
        assert _local_port(before) == _local_port(after)  # the same TCP connection
