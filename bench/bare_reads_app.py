"""The honest baseline of four read endpoints: the app's work, on bare FastAPI + asyncpg.

    BARE_READS_STATEMENTS=/tmp/statements.json \
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/outfield_bench \
        .venv/bin/python -m uvicorn bench.bare_reads_app:app --host 127.0.0.1 --port 8003

`bench.reads_vs_bare` writes the statements file (it captures the SQL the real app emits, see
below) and serves this app with uvicorn exactly like the real one (one worker, uvloop +
httptools, access log on), with the bearer tokens the real app issued.

Endpoints (first pages only: no `cursor`, and only the filters named here):

* `GET /v1/customers?owner=me&limit=…`
* `GET /v1/pool/customers?industry=…&limit=…`
* `GET /v1/customers/nearby?lat=…&lng=…&radius_m=…&limit=…[&crs=…]`
* `GET /v1/feed?limit=…`

Per request, the same work as the real endpoint:

1. the bearer token from `Authorization` (FastAPI's `OAuth2PasswordBearer`, as the app),
   checked as `app.auth.tokens.decode_access_token` does (PyJWT HS256, issuer, audience,
   required claims, exp / nbf against the clock) with the secret, issuer and audience of
   `app/config.py` (same env vars, same defaults); then the deny-list of signed-out tokens,
   `app.auth.denylist.is_denied` (the app's own function: one Redis EXISTS by the jti, on the
   app's shared client, REDIS_URL), as `app.auth.principal.verify_access_token` does;
2. on one pooled asyncpg connection (pool of OUTFIELD_DB_POOL_SIZE, 10): the caller lookup
   of `app.auth.principal` (the app's own statement) and its checks (found, active,
   token_version);
3. the endpoint's statements **as the app emits them**: not written here but loaded from
   the statements file — the SQL text SQLAlchemy sent for one real request per endpoint and
   caller shape (role, department), each bound parameter tied to what it stands for (the
   caller's ids, department path, limit + 1, industry, point, radius, the page's item ids)
   by the value it had in that request; the feed's two follow-up statements (likes of the
   caller, first comments) come from `app.feed.service.list_feed` compiled for a full page
   (they are not sent for an empty page). asyncpg prepares and caches every statement, as
   SQLAlchemy's asyncpg dialect does; json / jsonb are decoded by the same codec it installs;
4. the same JSON: the app's response schemas (`app.customers.schemas`, `app.feed.schemas`,
   `app.core.pagination.Page`) filled like the app's routers fill them (`customer_out`,
   the nearby loop, `item_out` / `comment_out`), the cursor by `app.core.pagination`, the
   locations by `app.core.location.location_out`, serialised once with
   `model_dump_json()`.

Differences from the real endpoints:

* no explicit transaction (the app's session issues BEGIN … ROLLBACK around a GET's
  statements); at READ COMMITTED each statement takes its own snapshot either way;
* no middleware (request id, JSON request log, Prometheus metrics, idempotency
  pass-through) and no SQLAlchemy; errors are a bare `{"code": …}` problem;
* the feed page is serialised with `model_dump_json()` like the customer lists; the app's
  feed route returns the model and lets FastAPI validate and serialise it again through
  `response_model`;
* only the query parameters above (other filters, `cursor` → 422 here); a caller shape
  without captured statements → 501.
"""

import json
import os
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import jwt
from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import OAuth2PasswordBearer

from app.auth.denylist import is_denied
from app.auth.tokens import decode_access_token
from app.core.geo import CRS, to_wgs84
from app.core.location import location_out
from app.core.pagination import Page, PageParams, make_page
from app.core.redis import close_redis
from app.customers.schemas import CustomerOut, NearbyCustomer, NearbyOut
from app.feed.schemas import CommentOut, FeedItemOut, Ref

# app/config.py: the same env vars and defaults.
POOL_SIZE = int(os.environ.get("OUTFIELD_DB_POOL_SIZE", "10"))
MAX_LIMIT = 100  # app.core.pagination / app.customers.router
MAX_NEARBY_RADIUS_M = 50_000

# ---------- statement templates (built by bench.reads_vs_bare, used here) ----------

_PLACEHOLDER = re.compile(r"\$(\d+)")
_IN_LIST = re.compile(r"IN \((\$\d+::UUID(?:, \$\d+::UUID)*)\)")


def _kind(value: object) -> str:
    return "uuid" if isinstance(value, uuid.UUID) else type(value).__name__


def _encode(value: object) -> object:
    if isinstance(value, uuid.UUID):
        return {"uuid": str(value)}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"a constant parameter of type {type(value).__name__}: not supported")


def _decode(value: object) -> object:
    return uuid.UUID(value["uuid"]) if isinstance(value, dict) else value


def shape_of(role: str, department_id: object, path: object) -> str:
    """The caller properties that shape the app's statements (role, department, path)."""
    return f"{role}:{'dept' if department_id else 'nodept'}:{'path' if path else 'nopath'}"


def like_prefix(path: str) -> str:
    """A department path as `startswith(…, autoescape=True)` binds it (escape char '/')."""
    return path.replace("/", "//").replace("%", "/%").replace("_", "/_")


def make_template(sql: str, args: list[Any], context: dict[str, Any]) -> dict[str, Any]:
    """A captured statement (text, positional values) → a template: every `$n` tied to the
    context entry whose value it had (`slot`), to an item id of `context["ids"]` (an
    `IN (…)` list, re-expanded per call) or kept as a constant."""
    ids = [uuid.UUID(str(i)) for i in context.get("ids", [])]
    specs: dict[int, tuple[str, Any]] = {}
    for n, value in enumerate(args, 1):
        spec: tuple[str, Any] | None = None
        if isinstance(value, uuid.UUID) and uuid.UUID(str(value)) in ids:
            spec = ("ids", ids.index(uuid.UUID(str(value))))
        else:
            for name, candidate in context.items():
                if name != "ids" and _kind(candidate) == _kind(value) and candidate == value:
                    spec = ("slot", name)
                    break
        specs[n] = spec or ("const", _encode(value))
    parts: list[Any] = []
    position = 0
    for match in _IN_LIST.finditer(sql) if ids else ():
        numbers = [int(x) for x in _PLACEHOLDER.findall(match[1])]
        if [specs[n] for n in numbers] != [("ids", i) for i in range(len(ids))]:
            continue
        parts += _split(sql[position : match.start(1)], specs)
        parts.append({"ids": "::UUID"})
        position = match.end(1)
    parts += _split(sql[position:], specs)
    if any(spec[0] == "ids" for n, spec in specs.items() if {"p": n} in parts):
        raise ValueError("an item id outside an IN list: cannot template this statement")
    return {
        "parts": parts,
        "specs": {str(n): [kind, value] for n, (kind, value) in specs.items()},
    }


def _split(text: str, specs: dict[int, tuple[str, Any]]) -> list[Any]:
    parts: list[Any] = []
    position = 0
    for match in _PLACEHOLDER.finditer(text):
        if int(match[1]) not in specs:
            raise ValueError(f"${match[1]} has no captured value")
        parts.append(text[position : match.start()])
        parts.append({"p": int(match[1])})
        position = match.end()
    parts.append(text[position:])
    return parts


_RENDERED: dict[int, dict[int, tuple[str, list[tuple[str, Any]]]]] = {}


def render(template: dict[str, Any], n_ids: int = 0) -> tuple[str, list[tuple[str, Any]]]:
    """(SQL with `$1…$k`, how to get each argument) for a call with `n_ids` item ids."""
    cache = _RENDERED.setdefault(id(template), {})
    if n_ids in cache:
        return cache[n_ids]
    numbers: dict[int, int] = {}
    getters: list[tuple[str, Any]] = []
    out = []
    for part in template["parts"]:
        if isinstance(part, str):
            out.append(part)
        elif "p" in part:
            if part["p"] not in numbers:
                kind, value = template["specs"][str(part["p"])]
                getters.append((kind, _decode(value) if kind == "const" else value))
                numbers[part["p"]] = len(getters)
            out.append(f"${numbers[part['p']]}")
        else:
            placeholders = []
            for i in range(n_ids):
                getters.append(("ids", i))
                placeholders.append(f"${len(getters)}{part['ids']}")
            out.append(", ".join(placeholders))
    cache[n_ids] = ("".join(out), getters)
    return cache[n_ids]


def arguments(getters: list[tuple[str, Any]], context: dict[str, Any]) -> list[Any]:
    return [
        value if kind == "const" else context["ids"][value] if kind == "ids" else context[value]
        for kind, value in getters
    ]


def bind(template: dict[str, Any], context: dict[str, Any]) -> tuple[str, list[Any]]:
    """The statement and its arguments for one call."""
    sql, getters = render(template, len(context.get("ids", ())))
    return sql, arguments(getters, context)


async def init_connection(conn: asyncpg.Connection) -> None:
    """json / jsonb decoded to Python, as SQLAlchemy's asyncpg dialect sets them up."""
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


# ---------- the app ----------

STATEMENTS: dict[str, Any] = {}
pool: asyncpg.Pool | None = None


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    global pool
    with open(os.environ["BARE_READS_STATEMENTS"], encoding="utf-8") as f:  # noqa: ASYNC230
        STATEMENTS.update(json.load(f))
    url = os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    pool = await asyncpg.create_pool(url, min_size=1, max_size=POOL_SIZE, init=init_connection)
    try:
        yield
    finally:
        await pool.close()
        await close_redis()


app = FastAPI(lifespan=lifespan)
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)


class Problem(Exception):
    def __init__(self, status: int, code: str) -> None:
        self.status, self.code = status, code


@app.exception_handler(Problem)
async def problem(_: Request, exc: Problem) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse({"code": exc.code}, exc.status, headers=headers)


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def claims_of(token: str | None) -> tuple[uuid.UUID, uuid.UUID, int]:
    """The app's own token check (`decode_access_token`, then the deny-list's one Redis
    EXISTS, `is_denied`): (user, company, version) or 401."""
    if not token:
        raise Problem(401, "not_authenticated")
    try:
        claims = decode_access_token(token, datetime.now(UTC))
    except jwt.ExpiredSignatureError as exc:
        raise Problem(401, "token_expired") from exc
    except jwt.InvalidTokenError as exc:
        raise Problem(401, "invalid_token") from exc
    if await is_denied(claims.jti):
        raise Problem(401, "token_revoked")
    return claims.user_id, claims.company_id, claims.token_version


async def caller(conn: asyncpg.Connection, token: str | None) -> dict[str, Any]:
    """app.auth.principal.current_principal: the caller's row, checked; → the context."""
    user_id, company_id, version = await claims_of(token)
    sql, args = bind(STATEMENTS["caller"], {"user_id": user_id, "company_id": company_id})
    row = await conn.fetchrow(sql, *args)
    if row is None:
        raise Problem(401, "invalid_token")
    if not row["is_active"]:
        raise Problem(401, "user_deactivated")
    if row["token_version"] != version:
        raise Problem(401, "token_revoked")
    path = row["path"]
    return {
        "user_id": row["id"],
        "company_id": row["company_id"],
        "department_id": row["department_id"],
        "path": path,
        "path_like": like_prefix(path) if path else None,
        "shape": shape_of(row["role"], row["department_id"], path),
    }


def statements(endpoint: str, context: dict[str, Any]) -> dict[str, Any]:
    found = STATEMENTS["endpoints"].get(endpoint, {}).get(context["shape"])
    if found is None:
        raise Problem(501, "shape_not_captured")
    return found


def no_extra_query(request: Request, allowed: set[str]) -> None:
    if set(request.query_params) - allowed:
        raise Problem(422, "unsupported_in_bare_app")


def customer_out(row: asyncpg.Record, crs: CRS) -> CustomerOut:
    """app.customers.router.customer_out on a row."""
    values = {name: row[name] for name in CUSTOMER_FIELDS}
    values["location"] = location_out(row["latitude"], row["longitude"], crs)
    values["tags"] = row["tags"] or []
    values["custom_fields"] = row["custom_fields"] or {}
    values["in_pool"] = row["owner_id"] is None
    return CustomerOut(**values)


CUSTOMER_FIELDS = [
    name
    for name in CustomerOut.model_fields
    if name not in ("location", "tags", "custom_fields", "in_pool")
]


async def customer_page(
    request: Request, token: str | None, endpoint: str, limit: int, crs: CRS, extra: dict
) -> Response:
    assert pool is not None
    async with pool.acquire() as conn:
        context = await caller(conn, token)
        context.update(extra, limit_plus_one=limit + 1)
        sql, args = bind(statements(endpoint, context)["main"], context)
        rows = await conn.fetch(sql, *args)
    params = PageParams(limit, None)
    rows, next_cursor = make_page(rows, params, key=lambda r: (r["created_at"], r["id"]))
    page = Page[CustomerOut](items=[customer_out(r, crs) for r in rows], next_cursor=next_cursor)
    return Response(page.model_dump_json(), media_type="application/json")


@app.get("/v1/customers")
async def list_customers(
    request: Request,
    owner: str = Query(pattern="^me$"),
    limit: int = Query(20, ge=1, le=MAX_LIMIT),
    crs: CRS = Query(CRS.WGS84),
    token: str | None = Depends(oauth2_scheme),
) -> Response:
    no_extra_query(request, {"owner", "limit", "crs"})
    return await customer_page(request, token, "customers_owner_me", limit, crs, {})


@app.get("/v1/pool/customers")
async def list_pool_customers(
    request: Request,
    industry: str = Query(max_length=100),
    limit: int = Query(20, ge=1, le=MAX_LIMIT),
    crs: CRS = Query(CRS.WGS84),
    token: str | None = Depends(oauth2_scheme),
) -> Response:
    no_extra_query(request, {"industry", "limit", "crs"})
    extra = {"industry": industry}
    return await customer_page(request, token, "pool_industry", limit, crs, extra)


@app.get("/v1/customers/nearby")
async def nearby(
    request: Request,
    lat: float = Query(ge=-90, le=90),
    lng: float = Query(ge=-180, le=180),
    crs: CRS = Query(CRS.WGS84),
    radius_m: float = Query(1000, gt=0, le=MAX_NEARBY_RADIUS_M),
    limit: int = Query(20, ge=1, le=100),
    token: str | None = Depends(oauth2_scheme),
) -> Response:
    assert pool is not None
    latitude, longitude = to_wgs84(lat, lng, crs)
    async with pool.acquire() as conn:
        context = await caller(conn, token)
        context.update(lat=latitude, lng=longitude, radius=radius_m, limit=limit)
        sql, args = bind(statements("nearby", context)["main"], context)
        rows = await conn.fetch(sql, *args)
    items = []
    for row in rows:
        location = location_out(row["latitude"], row["longitude"], crs)
        assert location is not None
        items.append(
            NearbyCustomer(
                id=row["id"],
                name=row["name"],
                address=row["address"],
                location=location,
                distance_m=round(row["distance_m"], 1),
                in_pool=row["owner_id"] is None,
                owner_id=row["owner_id"],
            )
        )
    return Response(NearbyOut(items=items).model_dump_json(), media_type="application/json")


def _ref(value: dict[str, Any] | None) -> Ref | None:
    if not value or not value.get("id"):
        return None
    return Ref(id=uuid.UUID(value["id"]), name=value.get("name") or "")


def comment_out(row: asyncpg.Record) -> CommentOut:
    """app.feed.router.comment_out on a first-comments row."""
    deleted = row["deleted_at"] is not None
    return CommentOut(
        id=row["id"],
        item_id=row["item_id"],
        author=Ref(id=row["author_id"], name=row["author_name"]),
        parent_id=row["parent_id"],
        body=None if deleted else row["body"],
        deleted=deleted,
        mentions=[] if deleted else list(row["mentions"] or []),
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def item_out(row: asyncpg.Record, liked: bool, comments: list[asyncpg.Record]) -> FeedItemOut:
    """app.feed.router.item_out on a feed_items row."""
    summary = row["summary"]
    return FeedItemOut(
        id=row["id"],
        kind=row["kind"],
        subject_type=row["subject_type"],
        subject_id=row["subject_id"],
        author=_ref(summary.get("author")),
        customer=_ref(summary.get("customer")),
        summary={k: v for k, v in summary.items() if k not in ("author", "customer")},
        like_count=row["like_count"],
        comment_count=row["comment_count"],
        liked_by_me=liked,
        first_comments=[comment_out(c) for c in comments],
        created_at=row["created_at"],
    )


@app.get("/v1/feed")
async def feed(
    request: Request,
    limit: int = Query(20, ge=1, le=MAX_LIMIT),
    token: str | None = Depends(oauth2_scheme),
) -> Response:
    assert pool is not None
    no_extra_query(request, {"limit"})
    params = PageParams(limit, None)
    async with pool.acquire() as conn:
        context = await caller(conn, token)
        context.update(limit_plus_one=limit + 1)
        found = statements("feed", context)
        sql, args = bind(found["main"], context)
        rows, next_cursor = make_page(
            await conn.fetch(sql, *args), params, key=lambda r: (r["created_at"], r["id"])
        )
        liked: set[uuid.UUID] = set()
        comments: dict[uuid.UUID, list[asyncpg.Record]] = {}
        if rows:
            context["ids"] = [r["id"] for r in rows]
            sql, args = bind(found["liked"], context)
            liked = {r["item_id"] for r in await conn.fetch(sql, *args)}
            sql, args = bind(found["comments"], context)
            for r in await conn.fetch(sql, *args):
                comments.setdefault(r["item_id"], []).append(r)
    page = Page[FeedItemOut](
        items=[item_out(r, r["id"] in liked, comments.get(r["id"], [])) for r in rows],
        next_cursor=next_cursor,
    )
    return Response(page.model_dump_json(), media_type="application/json")
