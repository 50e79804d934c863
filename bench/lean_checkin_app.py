"""A proposal, measured: `POST /v1/checkins` in two statements.

(Written when the app's check-in took about twenty round trips; the app now takes ten —
caller lookup, BEGIN, one context read, the INSERT, the clock UPDATE, feed item, recipients,
notifications, webhook outbox, COMMIT — with every statement built once, and measures about
the same throughput as this prototype: see docs/performance.md.)

    uvicorn bench.lean_checkin_app:app     # the real app + POST /v1/lean/checkins

NOT a drop-in replacement — a prototype to measure what consolidating the endpoint's database
work would buy, served inside the real app (same middleware, error handlers, request log,
the same `current_principal` dependency and session), so only the endpoint body differs:

1. one read (`READ`): the customer under the same visibility rule (rep / manager / admin,
   written out in SQL), the caller's collaborator flag and name, the company's time zone and
   check-in thresholds, the pool's clock rules, the other collaborators, the previous
   check-in of the caller, the duplicate-position test and the replay check on the id;
2. in Python, exactly the app's decisions: `app.fieldwork.rules` (flags, distance, counts)
   and `app.customers.rules.recycle_clock` (the new recycle_at);
3. one write (`WRITE`), a single statement (so atomic without BEGIN/SAVEPOINT): INSERT the
   check-in (`ON CONFLICT (id) DO NOTHING`), move the customer's clock (one UPDATE,
   guarded by the version read in step 1 — optimistic, instead of SELECT … FOR UPDATE),
   the feed item, the notifications (titles rendered by the app's templates, per locale)
   and the webhook deliveries — the rows `create_checkin` writes.

Not covered by the prototype (the real endpoint handles them; they add no statement to the
common request): photo_ids (422 here), a replayed id (answered by a slow path here, the
same as the app's), a concurrent change of the customer between read and write (409 here;
a real version would retry or fall back to the locking path).
"""

import json
import re
import uuid
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Response
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal, current_principal
from app.core import client_ids
from app.core.clock import now
from app.core.errors import ProblemError, not_found
from app.core.geo import CRS
from app.core.location import location_out
from app.customers import rules as customer_rules
from app.db import get_session
from app.feed.publish import excerpt
from app.fieldwork import rules
from app.fieldwork.schemas import CheckinCreate, CheckinOut, flags_out
from app.main import create_app
from app.notifications.service import in_quiet_hours  # noqa: F401 - same rule, in SQL below
from app.notifications.templates import render
from app.notifications.webhook_rules import rfc3339

# Every bind parameter with its type, so PostgreSQL never has to guess (text() binds are
# untyped; a parameter used in a SELECT list feeding an INSERT would otherwise be text).
TYPES = {
    "user_id": "uuid", "company_id": "uuid", "customer_id": "uuid", "checkin_id": "uuid",
    "id": "uuid", "event_id": "uuid", "people": "uuid[]", "role": "text", "path": "text",
    "position_key": "text", "recorded_at": "timestamptz", "received_at": "timestamptz",
    "last_followup_at": "timestamptz", "recycle_at": "timestamptz", "latitude": "float8",
    "longitude": "float8", "accuracy_m": "float8", "distance_m": "float8",
    "submitted_crs": "text", "offline": "boolean", "purpose": "text", "note": "text",
    "mock_location": "boolean", "device_id": "text", "flags": "jsonb", "counts": "boolean",
    "request_hash": "text", "recycle_reason": "text", "version": "integer",
    "feed_summary": "jsonb", "title_zh": "text", "body_zh": "text", "title_en": "text",
    "body_en": "text", "note_data": "jsonb", "local_time": "time", "payload": "jsonb",
}  # fmt: skip


def typed(sql: str):  # noqa: ANN201
    """text() with CAST(:name AS type) around every bind parameter."""
    return text(re.sub(r"(?<![:\w]):(\w+)\b", lambda m: f"CAST(:{m[1]} AS {TYPES[m[1]]})", sql))


READ = typed("""
SELECT c.id, c.name, c.latitude, c.longitude, c.owner_id, c.status, c.claimed_at,
       c.last_followup_at, c.last_deal_at, c.version,
       co.time_zone, co.settings,
       p.no_followup_days, p.no_deal_days, ps.won_exempt,
       (SELECT name FROM users WHERE id = :user_id) AS actor_name,
       ARRAY(SELECT cc.user_id FROM customer_collaborators cc WHERE cc.customer_id = c.id)
           AS collaborators,
       prev.latitude AS prev_latitude, prev.longitude AS prev_longitude,
       prev.client_recorded_at AS prev_recorded_at,
       EXISTS (SELECT 1 FROM checkins k
               WHERE k.company_id = :company_id AND k.position_key = :position_key
                 AND (k.customer_id <> c.id
                      OR date(timezone(co.time_zone, k.client_recorded_at))
                         <> date(timezone(co.time_zone, :recorded_at))))
           AS duplicate_position,
       EXISTS (SELECT 1 FROM checkins r WHERE r.id = :checkin_id) AS replayed
FROM customers c
JOIN companies co ON co.id = c.company_id
JOIN pools p ON p.id = c.pool_id
JOIN pool_settings ps ON ps.company_id = c.company_id
LEFT JOIN LATERAL (
    SELECT k.latitude, k.longitude, k.client_recorded_at FROM checkins k
    WHERE k.user_id = :user_id AND k.client_recorded_at <= :recorded_at
    ORDER BY k.client_recorded_at DESC LIMIT 1
) prev ON true
WHERE c.id = :customer_id AND c.company_id = :company_id AND c.deleted_at IS NULL
  AND (:role = 'admin'
       OR c.owner_id = :user_id OR c.owner_id IS NULL
       OR EXISTS (SELECT 1 FROM customer_collaborators cc
                  WHERE cc.customer_id = c.id AND cc.user_id = :user_id)
       OR (:role = 'manager' AND :path IS NOT NULL
           AND c.owner_id IN (SELECT u.id FROM users u JOIN departments d
                              ON d.id = u.department_id
                              WHERE u.company_id = :company_id
                                AND d.path LIKE :path || '%')))
""")

WRITE = typed("""
WITH ins AS (
    INSERT INTO checkins (id, company_id, user_id, customer_id, latitude, longitude,
        position_key, accuracy_m, submitted_crs, client_recorded_at, received_at, offline,
        purpose, note, mock_location, device_id, distance_m, flags, counts_as_followup,
        request_hash, created_at)
    VALUES (:id, :company_id, :user_id, :customer_id, :latitude, :longitude, :position_key,
        :accuracy_m, :submitted_crs, :recorded_at, :received_at, :offline, :purpose, :note,
        :mock_location, :device_id, :distance_m, :flags, :counts,
        :request_hash, :received_at)
    ON CONFLICT (id) DO NOTHING
    RETURNING id
), clock AS (
    UPDATE customers
    SET last_followup_at = :last_followup_at, recycle_at = :recycle_at,
        recycle_reason = :recycle_reason, version = version + 1, updated_at = :received_at
    WHERE id = :customer_id AND version = :version AND :counts
      AND EXISTS (SELECT 1 FROM ins)
    RETURNING id
), feed AS (
    INSERT INTO feed_items (id, company_id, kind, subject_type, subject_id, customer_id,
                            author_id, summary, like_count, comment_count, created_at)
    SELECT gen_random_uuid(), :company_id, 'checkin', 'checkin', ins.id, :customer_id,
           :user_id, :feed_summary, 0, 0, :received_at
    FROM ins
    ON CONFLICT (subject_type, subject_id) DO NOTHING
), notes AS (
    INSERT INTO notifications (id, company_id, user_id, kind, title, body, subject_type,
                               subject_id, customer_id, actor_id, deep_link, dedupe_key, data,
                               push_state, push_after, created_at, updated_at)
    SELECT gen_random_uuid(), :company_id, u.id, 'record_on_your_customer',
           CASE WHEN u.locale = 'zh-CN' THEN :title_zh ELSE :title_en END,
           CASE WHEN u.locale = 'zh-CN' THEN :body_zh ELSE :body_en END,
           'checkin', ins.id, :customer_id, :user_id, 'outfield://checkins/' || ins.id,
           'record:checkin:' || ins.id, :note_data,
           CASE WHEN 'record_on_your_customer' = ANY(coalesce(np.muted_kinds, '{}'))
                  OR (np.quiet_start IS NOT NULL AND np.quiet_end IS NOT NULL
                      AND np.quiet_start <> np.quiet_end
                      AND CASE WHEN np.quiet_start < np.quiet_end
                               THEN :local_time >= np.quiet_start
                                    AND :local_time < np.quiet_end
                               ELSE :local_time >= np.quiet_start
                                    OR :local_time < np.quiet_end END)
                THEN 'suppressed' ELSE 'pending' END,
           :received_at, :received_at, :received_at
    FROM ins
    JOIN users u ON u.id = ANY(:people) AND u.company_id = :company_id
                AND u.is_active
    LEFT JOIN notification_preferences np ON np.user_id = u.id
    ON CONFLICT (user_id, dedupe_key) DO NOTHING
), hooks AS (
    INSERT INTO webhook_deliveries (id, company_id, webhook_id, event_id, event_type, payload,
                                    status, attempts, next_attempt_at, created_at)
    SELECT gen_random_uuid(), w.company_id, w.id, :event_id, 'checkin.created',
           :payload, 'pending', 0, :received_at, :received_at
    FROM ins
    JOIN webhooks w ON w.company_id = :company_id AND w.active AND w.deleted_at IS NULL
                   AND 'checkin.created' = ANY(w.event_types)
    ON CONFLICT DO NOTHING
)
SELECT (SELECT count(*) FROM ins) AS inserted, (SELECT count(*) FROM clock) AS moved
""")

router = APIRouter()


@router.post("/v1/lean/checkins", status_code=201, response_model=CheckinOut)
async def lean_create_checkin(
    body: CheckinCreate,
    response: Response,
    principal: Principal = Depends(current_principal),
    session: AsyncSession = Depends(get_session),
) -> CheckinOut:
    if body.photo_ids:
        raise ProblemError(422, "not_in_prototype", "The prototype takes no photos.")
    digest = client_ids.request_hash(body)
    checkin_id = body.id or uuid.uuid4()
    latitude, longitude = body.location.wgs84()
    key = rules.position_key(latitude, longitude)
    row = (
        await session.execute(
            READ,
            {
                "user_id": principal.user_id,
                "company_id": principal.company_id,
                "customer_id": body.customer_id,
                "role": principal.role,
                "path": principal.department_path,
                "position_key": key,
                "recorded_at": body.client_recorded_at,
                "checkin_id": checkin_id,
            },
        )
    ).first()
    if row is None:
        raise not_found("customer")
    if row.replayed:
        # Rare: a retry. The app's own path answers it (same id + body → 200, else 409).
        from app.fieldwork.checkins import create_checkin
        from app.fieldwork.router import checkin_out

        checkin, _ = await create_checkin(session, principal, body)
        response.status_code = 200
        return checkin_out(checkin, [])
    received = now()
    limits = rules.CheckinThresholds.from_settings(row.settings)
    previous = (
        rules.PreviousCheckin(row.prev_latitude, row.prev_longitude, row.prev_recorded_at)
        if row.prev_recorded_at is not None
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
        customer_latitude=row.latitude,
        customer_longitude=row.longitude,
        previous=previous,
        duplicate_position=row.duplicate_position,
    )
    flags = rules.plausibility_flags(facts, limits)
    distance = rules.distance_to_customer(facts)
    distance_m = round(distance, 1) if distance is not None else None
    counts = rules.counts_as_followup(flags, limits)
    # refresh_recycle_clock's rule: never backwards, at the phone's time but not later
    # than we heard of it; then the recycle clock.
    at = min(body.client_recorded_at, received)
    last_followup = (
        row.last_followup_at if row.last_followup_at and row.last_followup_at >= at else at
    )
    clock = customer_rules.recycle_clock(
        owned=row.owner_id is not None,
        status=row.status,
        claimed_at=row.claimed_at,
        last_followup_at=last_followup,
        last_deal_at=row.last_deal_at,
        rules=customer_rules.RecycleRules(row.no_followup_days, row.no_deal_days, row.won_exempt),
    )
    actor = row.actor_name or "?"
    summary = {
        "purpose": body.purpose,
        "distance_m": distance_m,
        "flags": [flag["code"] for flag in flags],
        "text": excerpt(body.note),
    }
    feed_summary = {
        "author": {"id": str(principal.user_id), "name": actor},
        "customer": {"id": str(row.id), "name": row.name},
        **summary,
    }
    params = {"actor": actor, "customer": row.name, "record": "checkin"}
    title_zh, body_zh = render("record_on_your_customer", "zh-CN", params)
    title_en, body_en = render("record_on_your_customer", "en", params)
    people = [uid for uid in dict.fromkeys([row.owner_id, *row.collaborators]) if uid]
    people = [uid for uid in people if uid != principal.user_id]
    event_id = uuid.uuid4()
    payload = {
        "id": str(event_id),
        "type": "checkin.created",
        "occurred_at": rfc3339(received),
        "company_id": str(principal.company_id),
        "data": {
            "id": str(checkin_id),
            "customer_id": str(row.id),
            "user_id": str(principal.user_id),
            **summary,
        },
    }
    result = (
        await session.execute(
            WRITE,
            {
                "id": checkin_id,
                "company_id": principal.company_id,
                "user_id": principal.user_id,
                "customer_id": row.id,
                "latitude": latitude,
                "longitude": longitude,
                "position_key": key,
                "accuracy_m": body.location.accuracy_m,
                "submitted_crs": body.location.crs.value,
                "recorded_at": body.client_recorded_at,
                "received_at": received,
                "offline": body.offline,
                "purpose": body.purpose,
                "note": body.note,
                "mock_location": body.mock_location,
                "device_id": body.device_id,
                "distance_m": distance_m,
                "flags": json.dumps(flags),
                "counts": counts,
                "request_hash": digest,
                "last_followup_at": last_followup,
                "recycle_at": clock.recycle_at,
                "recycle_reason": clock.recycle_reason,
                "version": row.version,
                "feed_summary": json.dumps(feed_summary, ensure_ascii=False),
                "title_zh": title_zh,
                "body_zh": body_zh,
                "title_en": title_en,
                "body_en": body_en,
                "note_data": json.dumps(params, ensure_ascii=False),
                "local_time": received.astimezone(ZoneInfo(row.time_zone)).time(),
                "people": people,
                "event_id": event_id,
                "payload": json.dumps(payload, ensure_ascii=False),
            },
        )
    ).first()
    if result.inserted == 0:
        await session.rollback()
        raise ProblemError(409, "id_conflict", "A record with this id already exists.")
    if counts and result.moved == 0:
        await session.rollback()
        raise ProblemError(409, "conflict", "The customer changed meanwhile (prototype: retry).")
    await session.commit()
    return _out(
        {
            "id": checkin_id,
            "user_id": principal.user_id,
            "customer_id": row.id,
            "latitude": latitude,
            "longitude": longitude,
            "accuracy_m": body.location.accuracy_m,
            "submitted_crs": body.location.crs.value,
            "client_recorded_at": body.client_recorded_at,
            "received_at": received,
            "offline": body.offline,
            "purpose": body.purpose,
            "note": body.note,
            "mock_location": body.mock_location,
            "device_id": body.device_id,
            "distance_m": distance_m,
            "flags": flags,
            "counts_as_followup": counts,
            "checked_out_at": None,
            "duration_s": None,
            "created_at": received,
        },
        [],
    )


def _out(values: dict, photo_ids: list[uuid.UUID]) -> CheckinOut:
    location = location_out(values["latitude"], values["longitude"], CRS.WGS84)
    assert location is not None
    skip = {"location", "flags", "photo_ids"}
    return CheckinOut(
        **{k: values[k] for k in CheckinOut.model_fields if k in values and k not in skip},
        location=location,
        photo_ids=photo_ids,
        flags=flags_out(values["flags"]),
    )


app = create_app()
app.include_router(router)
