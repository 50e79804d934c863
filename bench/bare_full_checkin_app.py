"""The honest baseline of `POST /v1/checkins`: the app's work, on bare FastAPI + asyncpg.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/outfield_bench \
        .venv/bin/python -m uvicorn bench.bare_full_checkin_app:app --host 127.0.0.1 --port 8002

`bench.nearby_and_checkins` serves it with uvicorn exactly like the real app (one worker,
uvloop + httptools, access log on) and loads it with the same clients, with the real bearer
tokens the app issued, in the same run (server `bare-full`).

For the common request (no photos, a new id) it does what `app.fieldwork.checkins.router` +
`app.fieldwork.checkins.service.create_checkin` do, statement for statement, with the SQL written
out by hand (no SQLAlchemy; from `app` only the pure `app.fieldwork.checkins.rules`,
`app.notifications.inbox.templates.render` and `app.core.geo`, plus the token check and the
deny-list lookup of `app.auth`):

1. the token check of `app.auth.tokens.decode_access_token` (PyJWT, HS256, issuer,
   audience, the required claims, exp/nbf against the clock) with the secret, issuer and
   audience from the env vars and defaults of `app/config.py`; the deny-list of signed-out
   tokens (`app.auth.denylist.is_denied`, the app's own function: one Redis EXISTS by the
   jti, REDIS_URL); then the caller lookup of
   `app.auth.principal` (one SELECT of the user and their department path; active and
   token_version checked) — on the connection the request then uses;
2. one transaction (`conn.transaction()`: BEGIN … COMMIT):
   * the context read of `_context_statement`: the customer under `customer_visibility`
     (rep: owner / pool / collaborator; manager: + the department subtree; admin: the
     company), the company's time zone and check-in thresholds, the caller's previous
     check-in, the duplicate-position test, the replay test on the id, the caller's name and
     the customer's collaborators;
   * the plausibility flags, distance and counts-as-follow-up by `app.fieldwork.checkins.rules`;
   * the check-in INSERT (the 23 columns of `_INSERT_CHECKIN`, `ON CONFLICT (id) DO NOTHING
     RETURNING id`);
   * when it counts, the clock UPDATE of `refresh_recycle_clock(followup_at=…)`:
     last_followup_at = greatest(…), recycle_at / recycle_reason from the pool's rules and
     the company's won exemption (`rules.recycle_sql`'s rule), version + 1, updated_at;
   * the feed item of `publish.record_added` (same summary: author, customer, purpose,
     distance_m, flag codes, note excerpt);
   * when the customer's owner / collaborators include someone else than the caller: the
     recipients read of `notify_many` (locale, muted kinds, quiet hours) and one INSERT of
     the notifications over unnest (same columns, title and body rendered per locale,
     push_state / push_after by the same rule);
   * the webhook outbox: `INSERT … SELECT FROM webhooks` of `_enqueue_statement`, payload
     shaped like `event_payload`;
3. 201 with the same JSON body (`CheckinOut`, `?crs=` honoured).

Round trips, as in the app: the deny-list EXISTS (Redis), caller lookup, BEGIN, context,
INSERT, UPDATE, feed item, [recipients, notifications,] webhook outbox, COMMIT. Pool:
asyncpg, max size OUTFIELD_DB_POOL_SIZE (10, the app's pool_size; the app may overflow to
twice that, which a bench with ≤ 10 clients never reaches); asyncpg prepares and caches every
statement.

Differences from the real endpoint:
* not handled (they add no statement to the common request): `photo_ids` (422 here; the app
  looks the photos up and attaches them), a replayed id (409 here; the app answers 200 with
  the stored check-in when id and body match), 404 for an invisible customer without the
  app's extra lookup of the id;
* no middleware (the app's request-id / JSON request log / Prometheus metrics middleware
  and its Idempotency-Key middleware, a pass-through without the header), and errors are a
  bare `{"code": …}` problem instead of the app's full problem+json;
* the clock UPDATE reads the pool's rules through a join (`FROM pools, pool_settings`)
  instead of the app's correlated scalar subqueries (same values, same row lock), and
  returns nothing (the app's ORM update adds `RETURNING id` for `synchronize_session`);
* the manager's subtree test is `d.path LIKE prefix || '%'` as SQLAlchemy's
  `startswith(autoescape=True)` renders it; settings come from the environment only (the
  app's pydantic-settings also reads a `.env` file, absent here).
"""

import hashlib
import json
import os
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

import asyncpg
import jwt
from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel

from app.auth.denylist import is_denied
from app.auth.tokens import decode_access_token
from app.core.geo import from_wgs84, to_wgs84
from app.core.location import LocationOut
from app.core.redis import close_redis
from app.fieldwork.checkins import rules
from app.fieldwork.checkins.schemas import CheckinCreate, CheckinOut, Flag
from app.notifications.inbox.templates import render

# app/config.py: the same env vars and defaults (development: the dev secret).
POOL_SIZE = int(os.environ.get("OUTFIELD_DB_POOL_SIZE", "10"))
EXCERPT = 120
KIND = "record_on_your_customer"
EVENT_TYPE = "checkin.created"


# ---------- request and response bodies: the app's own schemas (imported, not re-typed)

# ---------- SQL ----------


def numbered(sql: str, names: list[str]) -> str:
    """`:name` → `$n` (asyncpg's placeholders), in the order of `names`."""
    return re.sub(r"(?<![:\w]):(\w+)\b", lambda m: f"${names.index(m[1]) + 1}", sql)


# app.auth.principal._CALLER
CALLER = """
SELECT u.id, u.company_id, u.role, u.department_id, d.path, u.locale, u.is_active,
       u.token_version
FROM users u LEFT JOIN departments d ON d.id = u.department_id
WHERE u.id = $1::uuid AND u.company_id = $2::uuid
"""


@lru_cache(maxsize=16)
def context_sql(role: str, subtree: bool, with_id: bool) -> tuple[str, tuple[str, ...]]:
    """app.fieldwork.checkins.service._context_statement for one shape: (SQL, parameter names)."""
    names = ["user_id", "company_id", "customer_id", "position_key", "recorded_at"]
    replayed = "false"
    if with_id:
        names.append("checkin_id")
        replayed = "EXISTS (SELECT 1 FROM checkins r WHERE r.id = :checkin_id::uuid)"
    # app.customers.access.customer_visibility
    visible = "c.company_id = :company_id::uuid AND c.deleted_at IS NULL"
    if role != "admin":
        others = [
            "c.owner_id = :user_id::uuid",
            "c.owner_id IS NULL",
            "EXISTS (SELECT 1 FROM customer_collaborators cc"
            " WHERE cc.customer_id = c.id AND cc.user_id = :user_id::uuid)",
        ]
        if role == "manager" and subtree:
            names.append("path_prefix")
            others.append(
                "c.owner_id IN (SELECT su.id FROM users su JOIN departments sd"
                " ON sd.id = su.department_id WHERE su.company_id = :company_id::uuid"
                " AND sd.path LIKE :path_prefix::text || '%' ESCAPE '/')"
            )
        visible += " AND (" + " OR ".join(others) + ")"
    sql = f"""
SELECT c.id, c.name, c.latitude, c.longitude, c.owner_id, co.time_zone, co.settings,
       prev.latitude AS previous_latitude, prev.longitude AS previous_longitude,
       prev.client_recorded_at AS previous_recorded_at,
       EXISTS (SELECT 1 FROM checkins k
               WHERE k.company_id = :company_id::uuid AND k.position_key = :position_key::text
                 AND (k.customer_id <> c.id
                      OR date(timezone(co.time_zone, k.client_recorded_at))
                         <> date(timezone(co.time_zone, :recorded_at::timestamptz))))
           AS duplicate_position,
       {replayed} AS replayed,
       (SELECT a.name FROM users a WHERE a.id = :user_id::uuid) AS actor,
       (SELECT array_agg(cc.user_id) FROM customer_collaborators cc
        WHERE cc.customer_id = c.id) AS collaborators
FROM customers c
JOIN companies co ON co.id = c.company_id
LEFT JOIN LATERAL (
    SELECT k.latitude, k.longitude, k.client_recorded_at FROM checkins k
    WHERE k.user_id = :user_id::uuid AND k.client_recorded_at <= :recorded_at::timestamptz
    ORDER BY k.client_recorded_at DESC LIMIT 1
) prev ON true
WHERE c.id = :customer_id::uuid AND {visible}
"""
    return numbered(sql, names), tuple(names)


# app.fieldwork.checkins.service._INSERT_CHECKIN: every column but the generated `location`.
INSERT_CHECKIN = """
INSERT INTO checkins (id, company_id, user_id, customer_id, latitude, longitude, position_key,
    accuracy_m, submitted_crs, client_recorded_at, received_at, offline, purpose, note,
    mock_location, device_id, distance_m, flags, counts_as_followup, checked_out_at,
    duration_s, request_hash, created_at)
VALUES ($1::uuid, $2::uuid, $3::uuid, $4::uuid, $5::float8, $6::float8, $7::varchar,
    $8::float8, $9::varchar, $10::timestamptz, $11::timestamptz, $12::boolean, $13::varchar,
    $14::varchar, $15::boolean, $16::varchar, $17::float8, $18::jsonb, $19::boolean,
    $20::timestamptz, $21::integer, $22::varchar, $23::timestamptz)
ON CONFLICT (id) DO NOTHING
RETURNING id
"""

# app.customers.clock._refresh_statement(followup=True, deal=False, set_next=False,
# touch=True), i.e. rules.recycle_sql over the row being written: exempt when pooled or won
# (and won is exempt); each clock from the later of the claim and its last event, + N × 24 h
# when N > 0; the earlier wins, no_followup on a tie. $1 customer, $2 followup_at,
# $3 updated_at, $4 company.
FOLLOWUP_DUE = """CASE WHEN p.no_followup_days > 0
         THEN greatest(c.claimed_at, c.last_followup_at, $2::timestamptz)
              + make_interval(0, 0, 0, 0, p.no_followup_days * 24) END"""
DEAL_DUE = """CASE WHEN p.no_deal_days > 0
         THEN greatest(c.claimed_at, c.last_deal_at)
              + make_interval(0, 0, 0, 0, p.no_deal_days * 24) END"""
EXEMPT = "c.owner_id IS NULL OR (c.status = 'won' AND coalesce(ps.won_exempt, true))"
CLOCK_UPDATE = f"""
UPDATE customers AS c
SET last_followup_at = greatest(c.last_followup_at, $2::timestamptz),
    recycle_at = CASE WHEN {EXEMPT} THEN NULL ELSE least({FOLLOWUP_DUE}, {DEAL_DUE}) END,
    recycle_reason = CASE
        WHEN {EXEMPT} THEN NULL
        WHEN ({FOLLOWUP_DUE}) IS NOT NULL
             AND (({DEAL_DUE}) IS NULL OR ({FOLLOWUP_DUE}) <= ({DEAL_DUE})) THEN 'no_followup'
        WHEN ({DEAL_DUE}) IS NOT NULL THEN 'no_deal'
    END,
    version = c.version + 1,
    updated_at = $3::timestamptz
FROM pools AS p LEFT JOIN pool_settings AS ps ON ps.company_id = $4::uuid
WHERE c.id = $1::uuid AND p.id = c.pool_id
"""

# app.feed.publish._INSERT_ITEM
INSERT_FEED_ITEM = """
INSERT INTO feed_items (id, company_id, kind, subject_type, subject_id, customer_id, author_id,
                        summary, like_count, comment_count, created_at)
VALUES ($1::uuid, $2::uuid, 'checkin', 'checkin', $3::uuid, $4::uuid, $5::uuid, $6::jsonb, 0, 0,
        $7::timestamptz)
ON CONFLICT (subject_type, subject_id, company_id) DO NOTHING
RETURNING id
"""

# app.notifications.inbox.service._RECIPIENTS
RECIPIENTS = """
SELECT u.id, u.company_id, u.locale, np.muted_kinds, np.quiet_start, np.quiet_end,
       co.time_zone
FROM users u
JOIN companies co ON co.id = u.company_id
LEFT JOIN notification_preferences np ON np.user_id = u.id
WHERE u.id = ANY($1::uuid[]) AND u.is_active IS true
"""

# app.notifications.inbox.service._INSERT_MANY
NOTE_COLUMNS = (
    ("company_id", "uuid"),
    ("user_id", "uuid"),
    ("kind", "text"),
    ("title", "text"),
    ("body", "text"),
    ("subject_type", "text"),
    ("subject_id", "uuid"),
    ("customer_id", "uuid"),
    ("actor_id", "uuid"),
    ("deep_link", "text"),
    ("dedupe_key", "text"),
    ("data", "text"),
    ("push_state", "text"),
    ("push_after", "timestamptz"),
)
INSERT_NOTIFICATIONS = (
    "INSERT INTO notifications (id, "
    + ", ".join(name for name, _ in NOTE_COLUMNS)
    + ", created_at, updated_at)\nSELECT gen_random_uuid(), "
    + ", ".join(f"u.{name}::jsonb" if name == "data" else f"u.{name}" for name, _ in NOTE_COLUMNS)
    + f", ${len(NOTE_COLUMNS) + 1}::timestamptz, ${len(NOTE_COLUMNS) + 1}::timestamptz\n"
    + "FROM unnest("
    + ", ".join(f"${i}::{kind}[]" for i, (_, kind) in enumerate(NOTE_COLUMNS, 1))
    + ") AS u("
    + ", ".join(name for name, _ in NOTE_COLUMNS)
    + ")\nON CONFLICT (user_id, dedupe_key, company_id) DO NOTHING\nRETURNING id"
)

# app.notifications.webhooks.service._enqueue_statement: $1 company, $2 event id, $3 event type,
# $4 payload, $5 at.
ENQUEUE_WEBHOOKS = """
INSERT INTO webhook_deliveries (id, company_id, webhook_id, event_id, event_type, payload,
                                status, attempts, next_attempt_at, created_at)
SELECT gen_random_uuid(), w.company_id, w.id, $2::uuid, $3::varchar, $4::jsonb, 'pending', 0,
       $5::timestamptz, $5::timestamptz
FROM webhooks w
WHERE w.company_id = $1::uuid AND w.active IS true AND w.deleted_at IS NULL
  AND $3::varchar = ANY(w.event_types)
ON CONFLICT DO NOTHING
"""


# ---------- the pure parts the app takes from elsewhere, written out ----------


class Problem(Exception):  # noqa: N818 - an HTTP answer
    def __init__(self, status: int, code: str, headers: dict[str, str] | None = None) -> None:
        self.status, self.code, self.headers = status, code, headers


def unauthorized(code: str) -> Problem:
    return Problem(401, code, {"WWW-Authenticate": "Bearer"})


def request_hash(body: BaseModel) -> str:
    """app.core.client_ids.request_hash."""
    payload = body.model_dump(mode="json", exclude={"id"})
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def excerpt(text: str | None) -> str:
    """app.feed.publish.excerpt."""
    text = (text or "").strip()
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"


def quiet_until(at: datetime, time_zone: str, start: time | None, end: time | None):  # noqa: ANN201
    """app.notifications.inbox.service.quiet_until: the end of the quiet window `at` is in,
    or None."""
    if start is None or end is None or start == end:
        return None
    zone = ZoneInfo(time_zone)
    local = at.astimezone(zone)
    now_local = local.time()
    inside = start <= now_local < end if start < end else now_local >= start or now_local < end
    if not inside:
        return None
    ends = datetime.combine(local.date(), end, tzinfo=zone)
    if ends <= local:
        ends = datetime.combine(local.date() + timedelta(days=1), end, tzinfo=zone)
    return ends.astimezone(UTC)


def rfc3339(at: datetime) -> str:
    """app.notifications.webhooks.rules.rfc3339."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def escape_like(prefix: str) -> str:
    """SQLAlchemy's startswith(autoescape=True): '/' escapes '%', '_' and itself."""
    return prefix.replace("/", "//").replace("%", "/%").replace("_", "/_")


# ---------- the app ----------

pool: asyncpg.Pool | None = None
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    global pool
    url = os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    pool = await asyncpg.create_pool(url, min_size=1, max_size=POOL_SIZE)
    try:
        yield
    finally:
        await pool.close()
        await close_redis()


app = FastAPI(lifespan=lifespan)


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.exception_handler(Problem)
async def problem(_: Request, exc: Problem) -> JSONResponse:
    return JSONResponse(
        {"status": exc.status, "code": exc.code},
        status_code=exc.status,
        headers=exc.headers,
        media_type="application/problem+json",
    )


@app.post("/v1/checkins", status_code=201, response_model=CheckinOut)
async def create_checkin(  # noqa: C901, PLR0912, PLR0915 - one endpoint, written out
    body: CheckinCreate,
    crs: Literal["wgs84", "gcj02", "bd09"] = Query("wgs84"),
    token: str | None = Depends(oauth2_scheme),
) -> CheckinOut:
    assert pool is not None
    # --- the caller (app.auth.principal.current_principal) ---
    if not token:
        raise unauthorized("not_authenticated")
    try:
        claims = decode_access_token(token, datetime.now(UTC))
    except jwt.ExpiredSignatureError as exc:
        raise unauthorized("token_expired") from exc
    except jwt.InvalidTokenError as exc:
        raise unauthorized("invalid_token") from exc
    if await is_denied(claims.jti):
        raise unauthorized("token_revoked")
    if body.photo_ids:
        raise Problem(422, "photos_not_in_baseline")
    async with pool.acquire() as conn:
        user = await conn.fetchrow(CALLER, claims.user_id, claims.company_id)
        if user is None:
            raise unauthorized("invalid_token")
        if not user["is_active"]:
            raise unauthorized("user_deactivated")
        if user["token_version"] != claims.token_version:
            raise unauthorized("token_revoked")
        user_id, company_id, role = user["id"], user["company_id"], user["role"]

        # --- app.fieldwork.checkins.service.create_checkin ---
        digest = request_hash(body)
        latitude, longitude = to_wgs84(body.location.lat, body.location.lng, body.location.crs)
        key = rules.position_key(latitude, longitude)
        path = user["path"] if role == "manager" else None
        sql, names = context_sql(role, bool(path), body.id is not None)
        values = {
            "user_id": user_id,
            "company_id": company_id,
            "customer_id": body.customer_id,
            "position_key": key,
            "recorded_at": body.client_recorded_at,
            "checkin_id": body.id,
            "path_prefix": escape_like(path) if path else None,
        }
        async with conn.transaction():
            context = await conn.fetchrow(sql, *(values[name] for name in names))
            if context is None:
                raise Problem(404, "not_found")
            if context["replayed"]:
                raise Problem(409, "replay_not_in_baseline")
            settings = json.loads(context["settings"]) if context["settings"] else None
            limits = rules.CheckinThresholds.from_settings(settings)
            received = datetime.now(UTC)
            previous = (
                rules.PreviousCheckin(
                    context["previous_latitude"],
                    context["previous_longitude"],
                    context["previous_recorded_at"],
                )
                if context["previous_recorded_at"] is not None
                else None
            )
            facts = rules.CheckinFacts(
                latitude=latitude,
                longitude=longitude,
                accuracy_m=body.location.accuracy_m,
                client_recorded_at=body.client_recorded_at,
                received_at=received,
                offline=body.offline,
                mock_location=body.mock_location,
                customer_latitude=context["latitude"],
                customer_longitude=context["longitude"],
                previous=previous,
                duplicate_position=context["duplicate_position"],
            )
            flags = rules.plausibility_flags(facts, limits)
            distance = rules.distance_to_customer(facts)
            distance_m = round(distance, 1) if distance is not None else None
            counts = rules.counts_as_followup(flags, limits)
            checkin_id = body.id or uuid.uuid4()
            customer_id = context["id"]
            inserted = await conn.fetchval(
                INSERT_CHECKIN,
                checkin_id, company_id, user_id, customer_id, latitude, longitude, key,
                body.location.accuracy_m, str(body.location.crs), body.client_recorded_at, received,
                body.offline, body.purpose, body.note, body.mock_location, body.device_id,
                distance_m, json.dumps(flags), counts, None, None, digest, received,
            )  # fmt: skip
            if inserted is None:
                raise Problem(409, "id_conflict")
            if counts:
                # The visit happened at the phone's time, but never later than we heard of it.
                await conn.execute(
                    CLOCK_UPDATE,
                    customer_id,
                    min(body.client_recorded_at, received),
                    datetime.now(UTC),
                    company_id,
                )

            # --- app.feed.publish.record_added ---
            actor = context["actor"] or "?"
            summary = {
                "purpose": body.purpose,
                "distance_m": distance_m,
                "flags": [flag["code"] for flag in flags],
                "text": excerpt(body.note),
            }
            full = {
                "author": {"id": str(user_id), "name": actor},
                "customer": {"id": str(customer_id), "name": context["name"]},
                **summary,
            }
            await conn.fetchval(
                INSERT_FEED_ITEM,
                uuid.uuid4(), company_id, checkin_id, customer_id, user_id, json.dumps(full),
                received,
            )  # fmt: skip
            people = [
                uid
                for uid in dict.fromkeys([context["owner_id"], *(context["collaborators"] or [])])
                if uid is not None and uid != user_id
            ]
            if people:  # notify → notify_many
                params = {"actor": actor, "customer": context["name"], "record": "checkin"}
                data = json.dumps(params, ensure_ascii=False)
                at = datetime.now(UTC)
                recipients = {r["id"]: r for r in await conn.fetch(RECIPIENTS, people)}
                columns: dict[str, list[Any]] = {name: [] for name, _ in NOTE_COLUMNS}
                for uid in people:
                    recipient = recipients.get(uid)
                    if recipient is None or recipient["company_id"] != company_id:
                        continue
                    title, text = render(KIND, recipient["locale"], params)
                    if KIND in (recipient["muted_kinds"] or []):
                        push_state, push_after = "suppressed", at
                    else:
                        quiet = quiet_until(
                            at, recipient["time_zone"], recipient["quiet_start"],
                            recipient["quiet_end"],
                        )  # fmt: skip
                        push_state, push_after = "pending", quiet or at
                    for name, value in (
                        ("company_id", company_id), ("user_id", uid), ("kind", KIND),
                        ("title", title), ("body", text), ("subject_type", "checkin"),
                        ("subject_id", checkin_id), ("customer_id", customer_id),
                        ("actor_id", user_id), ("deep_link", f"outfield://checkins/{checkin_id}"),
                        ("dedupe_key", f"record:checkin:{checkin_id}"), ("data", data),
                        ("push_state", push_state), ("push_after", push_after),
                    ):  # fmt: skip
                        columns[name].append(value)
                if columns["user_id"]:
                    await conn.fetch(
                        INSERT_NOTIFICATIONS, *(columns[name] for name, _ in NOTE_COLUMNS), at
                    )
            at = datetime.now(UTC)
            event_id = uuid.uuid4()
            payload = {
                "id": str(event_id),
                "type": EVENT_TYPE,
                "occurred_at": rfc3339(at),
                "company_id": str(company_id),
                "data": {
                    "id": str(checkin_id),
                    "customer_id": str(customer_id),
                    "user_id": str(user_id),
                    **summary,
                },
            }
            await conn.execute(
                ENQUEUE_WEBHOOKS, company_id, event_id, EVENT_TYPE, json.dumps(payload), at
            )

    out_lat, out_lng = from_wgs84(latitude, longitude, crs)
    return CheckinOut(
        id=checkin_id,
        user_id=user_id,
        customer_id=customer_id,
        location=LocationOut(lat=round(out_lat, 7), lng=round(out_lng, 7), crs=crs),
        accuracy_m=body.location.accuracy_m,
        submitted_crs=str(body.location.crs),
        client_recorded_at=body.client_recorded_at,
        received_at=received,
        offline=body.offline,
        purpose=body.purpose,
        note=body.note,
        photo_ids=[],
        mock_location=body.mock_location,
        device_id=body.device_id,
        distance_m=distance_m,
        flags=[Flag(**flag) for flag in flags],
        counts_as_followup=counts,
        checked_out_at=None,
        duration_s=None,
        created_at=received,
    )
