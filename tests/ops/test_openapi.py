import json
import re
from pathlib import Path

import jsonschema_rs
import pytest

from app.core.openapi import TAGS
from app.main import app
from scripts.export_openapi import TARGET, render
from tests.helpers import client, signup


def test_committed_openapi_matches_the_served_schema():
    assert TARGET.read_text(encoding="utf-8") == render(), (
        "run `make openapi` and commit openapi/openapi.json"
    )


def test_every_operation_has_summary_tags_and_documented_errors():
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), (method, path)
            assert operation.get("tags"), (method, path)
            if path.startswith("/v1/"):
                errors = [code for code in operation["responses"] if code.startswith(("4", "5"))]
                assert errors, (method, path)


async def test_served_schema_is_the_one_at_openapi_json():
    async with client() as http:
        response = await http.get("/openapi.json")
        assert response.json() == app.openapi()


# --- The contract is exact (issue 12): ids, metadata, security, errors, bodies, 405s, types. ---


OPERATION_IDS = Path(__file__).with_name("operation_ids.txt")
CAMEL = re.compile(r"^[a-z][a-z0-9]*([A-Z][a-z0-9]*)*$")


def _operations():
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def test_operation_ids_are_unique_camel_case_and_the_committed_list():
    ids = [operation["operationId"] for _, _, operation in _operations()]
    assert len(ids) == len(set(ids))
    assert [i for i in ids if not CAMEL.match(i)] == []
    served = sorted(f"{op['operationId']} {m.upper()} {p}" for p, m, op in _operations())
    committed = OPERATION_IDS.read_text(encoding="utf-8").splitlines()
    assert served == committed, "an operation id changed: a contract change (operation_ids.txt)"


def test_top_level_metadata():
    schema = app.openapi()
    assert schema["info"]["license"] == {"name": "MIT", "identifier": "MIT"}
    assert schema["info"]["contact"]["url"]
    assert schema["servers"]
    declared = {tag["name"] for tag in schema["tags"]}
    assert all(tag["description"] for tag in TAGS)
    used = {tag for _, _, operation in _operations() for tag in operation["tags"]}
    assert used == declared
    assert "HTTPValidationError" not in schema["components"]["schemas"]


def test_public_operations_say_security_none_and_protected_ones_the_scheme():
    schemes = set(app.openapi()["components"]["securitySchemes"])
    public = set()
    for path, method, operation in _operations():
        assert "security" in operation, (method, path)
        if operation["security"] == []:
            public.add((method, path))
        else:
            assert {name for item in operation["security"] for name in item} <= schemes
            assert "401" in operation["responses"], (method, path)
    assert {
        ("get", "/healthz"),
        ("get", "/readyz"),
        ("post", "/v1/auth/token"),
        ("post", "/v1/auth/refresh"),
        ("post", "/v1/signup"),
    } <= public
    assert ("get", "/v1/customers") not in public


def test_every_error_is_a_problem_document_and_bytes_are_binary():
    for path, method, operation in _operations():
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert list(response["content"]) == ["application/problem+json"], (path, status)
                schema = response["content"]["application/problem+json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}
                continue
            for media_type, body in response.get("content", {}).items():
                assert body.get("schema"), (method, path, status, media_type)
    download = app.openapi()["paths"]["/v1/files/{file_id}/content"]["get"]["responses"]["200"]
    assert download["content"]["image/jpeg"]["schema"] == {"type": "string", "format": "binary"}


def test_constrained_query_strings_are_declared():
    params = {
        p["name"]: p["schema"] for p in app.openapi()["paths"]["/v1/customers"]["get"]["parameters"]
    }
    owner = params["owner"]["anyOf"][0]["pattern"]
    assert re.match(owner, "me") and re.match(owner, "0b8c6f7e-7d5b-4b1e-9a53-2f1c1d6e1c11")
    assert not re.match(owner, "you")
    assert params["cf"]["items"]["pattern"]
    assert params["near"]["anyOf"][0]["pattern"]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/v1/customers", "GET, POST"),  # Starlette listed only the first route's GET
        ("PATCH", "/v1/customers/nearby", "GET"),  # reached PATCH /customers/{id}: a 401/422
        ("TRACE", "/healthz", "GET"),
        ("PUT", "/v1/customers/0b8c6f7e-7d5b-4b1e-9a53-2f1c1d6e1c11", "DELETE, GET, PATCH"),
        ("POST", "/v1/notifications/preferences", "GET, PUT"),
        ("PUT", "/v1/notifications/0b8c6f7e-7d5b-4b1e-9a53-2f1c1d6e1c11/read", "POST"),
    ],
)
async def test_an_unsupported_method_is_405_with_every_method_of_the_path(method, path, allow):
    async with client() as http:
        company = await signup(http)
        # Twice with one Idempotency-Key: a 405 is not stored and replayed without its Allow.
        headers = {**company.admin, "Idempotency-Key": "k-405"}
        for _ in range(2):
            response = await http.request(method, path, headers=headers, json={"a": _})
            assert response.status_code == 405, response.text
            assert response.headers["allow"] == allow
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["code"] == "method_not_allowed"


def test_id_routes_document_404_and_bodies_413_and_422_and_login_429():
    for path, method, operation in _operations():
        responses = operation["responses"]
        if "{" in path:
            assert "404" in responses, (method, path)
        if "requestBody" in operation:
            assert {"413", "422"} <= set(responses), (method, path)
    login = app.openapi()["paths"]["/v1/auth/token"]["post"]["responses"]
    assert "429" in login


# --- Request strings say what the server refuses (issue 12): the text rule and the years. ---

REFUSED = ["\x00", "\x08", "\x0b", "\x0c", "\x1f", "\x7f", "\x85", "\x9f"]
DATE_SAMPLES = {
    "date": (["1900-01-01", "2024-02-29", "2200-12-31"], ["1899-12-31", "2201-01-01"]),
    "date-time": (
        ["1900-01-01T00:00:00Z", "2200-12-31T23:59:59.123456+08:00"],
        ["1899-12-31T23:59:59Z", "2201-01-01T00:00:00+08:00"],
    ),
}


def _request_strings():
    """Every string schema a request can carry (path and query parameters, JSON, form and
    multipart bodies, through `$ref`s), with where it is."""
    schema = app.openapi()
    components = schema["components"]["schemas"]
    seen: set[str] = set()

    def walk(node, where):
        if isinstance(node, list):
            for index, item in enumerate(node):
                yield from walk(item, f"{where}[{index}]")
        if not isinstance(node, dict):
            return
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                seen.add(name)
                yield from walk(components[name], name)
        if node.get("type") == "string":
            yield where, node
        if "propertyNames" in node:
            yield f"{where} keys", {"type": "string", **node["propertyNames"]}
        for key, value in node.items():
            if key not in ("default", "examples", "example", "enum", "const"):
                yield from walk(value, f"{where}.{key}")

    for path, method, operation in _operations():
        for parameter in operation.get("parameters", []):
            if parameter["in"] in ("path", "query"):
                yield from walk(parameter["schema"], f"{method} {path} {parameter['name']}")
        for media_type, body in operation.get("requestBody", {}).get("content", {}).items():
            yield from walk(body["schema"], f"{method} {path} {media_type}")


def test_every_request_string_refuses_what_the_server_refuses_and_dates_carry_the_years():
    checked = 0
    for where, node in _request_strings():
        if "contentMediaType" in node:
            continue  # uploaded bytes, not text
        valid = jsonschema_rs.validator_for(node, validate_formats=True).is_valid
        admitted = [f"U+{ord(c):04X}" for c in REFUSED if valid(f"a{c}b") or valid(c)]
        assert admitted == [], (where, node)
        if node.get("format") in DATE_SAMPLES:
            good, bad = DATE_SAMPLES[node["format"]]
            assert all(valid(value) for value in good), (where, node)
            assert not any(valid(value) for value in bad), (where, node)
        checked += 1
    assert checked > 100


def test_response_schemas_do_not_get_the_request_rules():
    components = app.openapi()["components"]["schemas"]
    out = components["ContactOut"]["properties"]["birthday"]["anyOf"][0]
    assert "pattern" not in out
    assert "pattern" not in components["Preferences"]["properties"]["muted_kinds"]["items"]
    assert components["PreferencesInput"]["properties"]["muted_kinds"]["items"]["pattern"]


def test_another_app_does_not_change_the_document():
    """Routers are shared by every app made (tests make more than one): generating another
    app's document must not touch this one's, nor find what a first generation finished."""
    from app.main import create_app

    served = json.dumps(app.openapi(), sort_keys=True)
    create_app().openapi()
    again = create_app().openapi()
    assert json.dumps(again, sort_keys=True) == served
    # Generated again in the same app (the cache dropped, or replaced by a copy): the same.
    app.openapi_schema = None
    assert json.dumps(app.openapi(), sort_keys=True) == served
    app.openapi_schema = json.loads(served)
    assert json.dumps(app.openapi(), sort_keys=True) == served
    assert TARGET.read_text(encoding="utf-8") == render()
