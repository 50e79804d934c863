"""The served OpenAPI document, made exact in one place: stable camelCase operation ids, the
top-level metadata, `security: []` on public operations, problem+json on every error status
(with the stable codes an area can answer), binary download bodies and `Idempotency-Key`, and
request strings, dates and date-times declared as the server bounds them (`_request_rules`)."""

import ast
import copy
import re
from collections import defaultdict
from functools import cache
from http import HTTPStatus
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from app.core.errors import PROBLEM_MEDIA_TYPE
from app.core.idempotency import EXCLUDED_PREFIXES, MAX_KEY_LENGTH, UNSAFE_METHODS
from app.core.limits import MAX_YEAR, MIN_YEAR
from app.core.strict import TIME_OF_DAY_PATTERN

APP_DIR = Path(__file__).resolve().parent.parent

TAGS: list[dict[str, str]] = [
    {"name": "ops", "description": "Health, readiness, metrics and the worker's jobs (admins)."},
    {"name": "auth", "description": "Sign in, refresh, sign out and change password."},
    {"name": "org", "description": "Sign-up, departments, users, me, the company's settings."},
    {"name": "customers", "description": "Customers, their contacts, collaborators and deals."},
    {"name": "pool", "description": "The public pool: rules, pools and claiming customers."},
    {"name": "files", "description": "Photos and voice notes: upload, details, download."},
    {"name": "checkins", "description": "Geo-verified visits: check in and check out."},
    {"name": "followups", "description": "Follow-up records of customer contact."},
    {"name": "logs", "description": "Daily, weekly and monthly work logs."},
    {"name": "visit-plans", "description": "Planned visits and a rep's day route."},
    {
        "name": "attendance",
        "description": "Clock-in and clock-out (外勤考勤) with plausibility flags; work sites.",
    },
    {"name": "tasks", "description": "Tasks (日程/待办): due times, assignees, reminders."},
    {
        "name": "tickets",
        "description": "Service tickets (投诉/建议/服务): due by priority, status, satisfaction.",
    },
    {
        "name": "pipelines",
        "description": "Sales processes: pipelines, stages, exit rules, lost reasons.",
    },
    {
        "name": "opportunities",
        "description": "Opportunities (商机) and their gated advance through stages.",
    },
    {
        "name": "lead-pools",
        "description": "Lead pools: who may pull, claiming, assigning, releasing.",
    },
    {
        "name": "leads",
        "description": "Leads (线索): capture, duplicates, import, one-step conversion.",
    },
    {"name": "products", "description": "The company's products and price list (admins write)."},
    {"name": "contracts", "description": "Contracts (合同): lines, numbers, submit, close."},
    {"name": "payment-plans", "description": "A contract's instalments (status from payments)."},
    {"name": "payments", "description": "Payments received (回款): record, confirm, reverse."},
    {"name": "approval-flows", "description": "Approval flows: contracts, discounts, payments."},
    {"name": "approvals", "description": "Approvals to decide and approvals submitted (审批)."},
    {
        "name": "targets",
        "description": "Targets (目标): set, split exactly, suggest; period snapshots.",
    },
    {
        "name": "dashboard",
        "description": "The caller's first screen: targets, customers, plans, money due.",
    },
    {
        "name": "coverage",
        "description": "The coverage policy: visits and minutes per customer tier.",
    },
    {
        "name": "reports",
        "description": "Visits, funnel, forecast, leads, receivables, sales, achievement, ranking, "
        "work, coverage, the customer map, attendance, tickets.",
    },
    {"name": "feed", "description": "The company's activity feed: likes and comments."},
    {"name": "notifications", "description": "The in-app inbox and notification preferences."},
    {"name": "devices", "description": "Push-notification devices of the signed-in user."},
    {"name": "webhooks", "description": "Outgoing webhooks of the company (admins)."},
]
SERVERS = [{"url": "/", "description": "This server (relative to where the schema is served)."}]
CONTACT = {"name": "Outfield", "url": "https://outfield.dev"}
LICENSE = {"name": "MIT", "identifier": "MIT"}

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
BINARY = {"type": "string", "format": "binary"}

# Codes every operation of a kind can answer, whatever its package.
AUTH_CODES = ["not_authenticated", "token_expired", "invalid_token", "user_deactivated"]
COMMON_CODES: dict[int, list[str]] = {
    400: ["bad_request"],
    401: AUTH_CODES + ["token_revoked"],
    403: ["forbidden"],
    404: ["not_found"],
    412: ["precondition_failed"],
    422: ["validation_failed"],
}
IDEMPOTENCY_CODES = {
    409: ["idempotency_request_in_progress"],
    422: ["idempotency_key_reused", "invalid_idempotency_key"],
}


def _camel(name: str) -> str:
    head, *rest = [part for part in re.split(r"[^0-9A-Za-z]+", name) if part]
    return head[:1].lower() + head[1:] + "".join(part[:1].upper() + part[1:] for part in rest)


def operation_id(route: APIRoute) -> str:
    """The operation id: the route's explicit `operation_id=`, else its function name in
    camelCase (`list_customers` → `listCustomers`). Renaming one is a contract change
    (tests/ops/operation_ids.txt)."""
    return route.operation_id or _camel(route.name)


@cache
def _catalogue(package: str) -> dict[int, tuple[str, ...]]:
    """status → the problem codes a package's modules build (read from their source)."""
    folder = APP_DIR / package
    files = [folder / "errors.py"] if package != "core" else sorted(folder.glob("*.py"))
    found: dict[int, set[str]] = defaultdict(set)
    for path in files:
        if not path.exists():
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None)):
                continue
            if getattr(node.func, "id", "") not in {"ProblemError", "field_error"}:
                continue
            args = node.args
            if (
                len(args) >= 2
                and isinstance(args[0], ast.Constant)
                and isinstance(args[0].value, int)
                and isinstance(args[1], ast.Constant)
                and isinstance(args[1].value, str)
            ):
                found[args[0].value].add(args[1].value)
    return {status: tuple(sorted(codes)) for status, codes in found.items()}


def _codes(route: APIRoute, status: int, unsafe: bool) -> list[str]:
    package = route.endpoint.__module__.split(".")[1]
    codes = list(COMMON_CODES.get(status, []))
    if unsafe:
        codes += IDEMPOTENCY_CODES.get(status, [])
    codes += _catalogue(package).get(status, ())
    if status in (409, 428):
        codes += _catalogue("core").get(status, ())
    return sorted(set(codes))


CODES_NOTE = " — `code` is one of: "


def _problem(status: int, codes: list[str], description: str | None = None) -> dict[str, Any]:
    text = description if description and description != "Successful Response" else None
    # Idempotent: a description that already names its codes is not extended twice.
    text = (text or HTTPStatus(status).phrase).split(CODES_NOTE)[0]
    if codes:
        text += CODES_NOTE + ", ".join(f"`{code}`" for code in codes) + "."
    return {"description": text, "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}}}


def _finish_operation(route: APIRoute, method: str, operation: dict[str, Any]) -> None:
    secured = bool(operation.get("security"))
    if not secured:
        operation["security"] = []
    unsafe = method in UNSAFE_METHODS and not route.path.startswith(EXCLUDED_PREFIXES)
    responses: dict[str, Any] = operation["responses"]
    if unsafe and secured:
        # The idempotency middleware answers these for any unsafe call with a key.
        operation.setdefault("parameters", []).append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "Replays the stored response of the same request for 24 h.",
                "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
            }
        )
        for status in IDEMPOTENCY_CODES:
            responses.setdefault(str(status), {})
    if secured:
        responses.setdefault("401", {})
    if "requestBody" in operation:
        responses.setdefault("400", {})  # a body that is not JSON (or not UTF-8) at all
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "header" and parameter["name"].lower() == "if-match":
            # check_if_match answers 428 without it and 412 when stale: required, in effect
            # (declared optional to FastAPI only so that a missing one is a 428, not a 422).
            parameter["required"] = True
            parameter["schema"] = {"type": "string", "minLength": 1}
            responses.setdefault("412", {})
            responses.setdefault("428", {})
    for key in list(responses):
        status = int(key)
        response = responses[key]
        if status >= 400:
            responses[key] = _problem(
                status, _codes(route, status, unsafe and secured), response.get("description")
            )
            continue
        for media_type, body in response.get("content", {}).items():
            if not body.get("schema") and "json" not in media_type:
                body["schema"] = {"type": "string"} if media_type.startswith("text/") else BINARY
    operation["responses"] = dict(sorted(responses.items()))


def _local_times(node: Any) -> None:
    """`format: time` is RFC 3339 `full-time`, which requires an offset; the API's times of
    day are local (`08:30:00`, the company's zone), so they are declared by their pattern."""
    if isinstance(node, dict):
        if node.get("type") == "string" and node.get("format") == "time":
            del node["format"]
            node["pattern"] = TIME_OF_DAY_PATTERN
        for value in node.values():
            _local_times(value)
    elif isinstance(node, list):
        for value in node:
            _local_times(value)


def _takes_client_id(schema: dict[str, Any], operation: dict[str, Any]) -> bool:
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    ref = body.get("schema", {}).get("$ref", "")
    model = schema.get("components", {}).get("schemas", {}).get(ref.rsplit("/", 1)[-1], {})
    return "id" in model.get("properties", {})


def _client_id_retries(schema: dict[str, Any]) -> None:
    """A create that takes a client-generated `id` answers 200 with the existing record when
    the same id comes again with the same body (app/core/client_ids.py), 201 otherwise."""
    for operations in schema["paths"].values():
        for method, operation in operations.items():
            responses = operation["responses"]
            if method != "post" or "201" not in responses or "200" in responses:
                continue
            if _takes_client_id(schema, operation):
                responses["200"] = {
                    **responses["201"],
                    "description": "A retry: the record with this client `id` already exists.",
                }
                operation["responses"] = dict(sorted(responses.items()))


# --- What the server enforces on every request string, date and date-time, said once. ---

TEXT_PATTERN = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"
"""`app.core.schemas.text_problem` as an ECMA-262 pattern: no C0 control but tab, LF and CR, no
DEL or C1. (Lone surrogates, refused too, cannot be written in a Unicode-mode pattern; they
cannot be sent as UTF-8 either, only as a JSON `\\uD800` escape.)"""
# 1900–2200 (app/core/limits.py) as the year of an RFC 3339 date / date-time.
assert (MIN_YEAR, MAX_YEAR) == (1900, 2200), "update _YEAR with app/core/limits.py"
_YEAR = "(19[0-9]{2}|2[01][0-9]{2}|2200)"
_DAY = "(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
DATE_PATTERN = f"^{_YEAR}-{_DAY}$"
DATE_TIME_PATTERN = (
    f"^{_YEAR}-{_DAY}[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{{1,6}})?"
    "([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
YEAR_PATTERNS = {"date": DATE_PATTERN, "date-time": DATE_TIME_PATTERN}
# Formats whose values cannot hold a refused character (they are checked as such).
_TEXT_FORMATS = {"uuid", "email", "uri", "binary", *YEAR_PATTERNS}
# A pattern that admits a refused character: a negated class, `.`, a class escape or a code.
_OPEN_PATTERN = re.compile(r"\[\^|\\[sSwWdDpPux]|(?<!\\)\.")
_COMPONENT = "#/components/schemas/"
_FORM_MEDIA_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _pattern_excludes_refused(pattern: str) -> bool:
    """Whether a pattern already refuses the characters the text rule refuses: anchored at both
    ends and built of literal characters and explicit classes only."""
    return pattern.startswith("^") and pattern.endswith("$") and not _OPEN_PATTERN.search(pattern)


def _request_string(node: dict[str, Any]) -> None:
    """One request string schema: the year bound on a date / date-time, the text rule on free
    text (next to a pattern of its own that lets refused characters through, as `allOf`)."""
    if "enum" in node or "const" in node or "contentMediaType" in node:
        return
    form = node.get("format")
    if form in YEAR_PATTERNS:
        node.setdefault("pattern", YEAR_PATTERNS[form])
    if form in _TEXT_FORMATS:
        return
    pattern = node.get("pattern")
    if pattern is None:
        node["pattern"] = TEXT_PATTERN
    elif pattern != TEXT_PATTERN and not _pattern_excludes_refused(pattern):
        rules = node.setdefault("allOf", [])
        if {"pattern": TEXT_PATTERN} not in rules:
            rules.append({"pattern": TEXT_PATTERN})


def _no_null_in_forms(node: dict[str, Any]) -> None:
    """A form field is a string or absent, never JSON `null`: `anyOf: [X, null]` becomes X."""
    for name, prop in list(node.get("properties", {}).items()):
        branches = prop.get("anyOf")
        if not branches or {"type": "null"} not in branches:
            continue
        rest = [branch for branch in branches if branch != {"type": "null"}]
        if len(rest) == 1:
            merged = {**{k: v for k, v in prop.items() if k != "anyOf"}, **rest[0]}
            node["properties"][name] = merged


class _RequestRules:
    """Applies `_request_string` to every string a request can carry (path and query parameters,
    JSON, form and multipart bodies, through `$ref`s). A component a response uses too is left
    as it is and the request gets a copy, `<Name>Input`, when the rules change it."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.components: dict[str, Any] = schema.get("components", {}).get("schemas", {})
        self.shared = _response_refs(schema)
        self.done: dict[str, str] = {}

    def ref(self, name: str) -> str:
        if name in self.done:
            return self.done[name]
        if name not in self.shared:
            self.done[name] = name
            self.walk(self.components[name])
            return name
        original = self.components[name]
        candidate = copy.deepcopy(original)
        self.done[name] = name  # (a cycle through it keeps the shared one)
        self.walk(candidate)
        if candidate != original:
            self.done[name] = f"{name}Input"
            candidate["title"] = f"{original.get('title', name)} (request)"
            self.components[f"{name}Input"] = candidate
        return self.done[name]

    def walk(self, node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                self.walk(item)
            return
        if not isinstance(node, dict):
            return
        if isinstance(node.get("$ref"), str) and node["$ref"].startswith(_COMPONENT):
            node["$ref"] = _COMPONENT + self.ref(node["$ref"].removeprefix(_COMPONENT))
        if node.get("type") == "string":
            _request_string(node)
        if isinstance(node.get("propertyNames"), dict):  # object keys: strings, always
            _request_string(node["propertyNames"])
        for key, value in node.items():
            if key in ("properties", "patternProperties", "$defs"):
                for child in value.values():
                    self.walk(child)
            elif key not in ("examples", "example", "default", "const", "enum"):
                self.walk(value)


def _response_refs(schema: dict[str, Any]) -> set[str]:
    """The components the responses of the document reach."""
    components = schema.get("components", {}).get("schemas", {})
    found: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(_COMPONENT):
                name = ref.removeprefix(_COMPONENT)
                if name not in found and name in components:
                    found.add(name)
                    visit(components[name])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    for operations in schema["paths"].values():
        for operation in operations.values():
            visit(operation.get("responses", {}))
    return found


def _request_rules(schema: dict[str, Any]) -> None:
    rules = _RequestRules(schema)
    for operations in schema["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] in ("path", "query"):  # headers: not checked as text
                    rules.walk(parameter["schema"])
            for media_type, body in operation.get("requestBody", {}).get("content", {}).items():
                target = body.get("schema", {})
                rules.walk(target)
                if media_type in _FORM_MEDIA_TYPES:
                    ref = target.get("$ref", "")
                    _no_null_in_forms(rules.components.get(ref.removeprefix(_COMPONENT), target))


def finish_openapi(app: FastAPI, schema: dict[str, Any]) -> dict[str, Any]:
    """Post-process FastAPI's generated document (see the module docstring)."""
    _client_id_retries(schema)
    for route in (context.route for context in iter_route_contexts(app.routes)):
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        operations = schema["paths"].get(route.path_format, {})
        for method in route.methods or ():
            if method.lower() in operations:
                _finish_operation(route, method, operations[method.lower()])
    _local_times(schema)
    _request_rules(schema)
    schemas = schema.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return schema


def install_openapi(app: FastAPI) -> None:
    """Call before the routers are included (the id function applies at inclusion)."""
    app.router.generate_unique_id_function = operation_id
    app.openapi_tags = TAGS
    app.servers = SERVERS
    app.contact = CONTACT
    app.license_info = LICENSE

    def openapi() -> dict[str, Any]:
        # FastAPI's document shares objects with the routes (their `responses`), and routers
        # are module-level, shared by every app made: finish a deep copy, so generating the
        # document again (another app, routes changed) never sees a finished one.
        if app.openapi_schema is None:
            app.openapi_schema = finish_openapi(app, copy.deepcopy(FastAPI.openapi(app)))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
