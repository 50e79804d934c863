"""A bare FastAPI + asyncpg app doing only the INSERT of `POST /v1/checkins` — the baseline.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/outfield_bench \
        .venv/bin/python -m uvicorn bench.bare_checkin_app:app --host 127.0.0.1 --port 8001

`bench.nearby_and_checkins` serves it with uvicorn exactly like the real app (one worker,
uvloop + httptools, access log on) and loads both with the same clients in the same run.

It accepts the same JSON body as the real endpoint (a Pydantic model with the same fields and
limits), takes the caller from two headers instead of a token (`X-Bench-User`,
`X-Bench-Company`: no auth), computes what needs no database (position key, request hash,
received_at), and runs the very INSERT the app's ORM emits — same table, same 23 columns, same
`RETURNING ST_AsBinary(location)` — on a pool of the same size as the app's (10), one
statement in autocommit. Then it answers 201 with the same response shape.

What it does NOT do, and the real endpoint does: JWT + caller lookup, replay check on the id,
the customer's visibility check and collaborator lookup, the company's thresholds, the
previous check-in and duplicate-position queries (plausibility flags, distance), SAVEPOINT,
moving the customer's follow-up clock (row lock + UPDATE), the feed item, notifications and
webhook outbox, an explicit transaction, and the photo lookup for the response.
"""

import hashlib
import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Literal

import asyncpg
from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

INSERT = """
INSERT INTO checkins (id, company_id, user_id, customer_id, latitude, longitude, position_key,
    accuracy_m, submitted_crs, client_recorded_at, received_at, offline, purpose, note,
    mock_location, device_id, distance_m, flags, counts_as_followup, checked_out_at,
    duration_s, request_hash, created_at)
VALUES ($1::UUID, $2::UUID, $3::UUID, $4::UUID, $5::FLOAT, $6::FLOAT, $7::VARCHAR, $8::FLOAT,
    $9::VARCHAR, $10::TIMESTAMPTZ, $11::TIMESTAMPTZ, $12::BOOLEAN, $13::VARCHAR, $14::VARCHAR,
    $15::BOOLEAN, $16::VARCHAR, $17::FLOAT, $18::JSONB, $19::BOOLEAN, $20::TIMESTAMPTZ,
    $21::INTEGER, $22::VARCHAR, $23::TIMESTAMPTZ)
RETURNING ST_AsBinary(checkins.location) AS location
"""


class LocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)
    accuracy_m: float | None = Field(None, ge=0, le=100_000)
    crs: Literal["wgs84"] = "wgs84"


class CheckinCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    id: uuid.UUID | None = None
    customer_id: uuid.UUID
    location: LocationIn
    client_recorded_at: AwareDatetime
    offline: bool = False
    purpose: str | None = Field(None, max_length=200)
    note: str | None = Field(None, max_length=5000)
    photo_ids: list[uuid.UUID] = Field(default_factory=list, max_length=9)
    mock_location: bool = False
    device_id: str | None = Field(None, max_length=200)


class LocationOut(BaseModel):
    lat: float
    lng: float
    crs: str


class CheckinOut(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID
    customer_id: uuid.UUID
    location: LocationOut
    accuracy_m: float | None
    submitted_crs: str
    client_recorded_at: datetime
    received_at: datetime
    offline: bool
    purpose: str | None
    note: str | None
    photo_ids: list[uuid.UUID]
    mock_location: bool
    device_id: str | None
    distance_m: float | None
    flags: list[dict]
    counts_as_followup: bool
    checked_out_at: datetime | None
    duration_s: int | None
    created_at: datetime


pool: asyncpg.Pool | None = None


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    global pool
    url = os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    pool = await asyncpg.create_pool(url, min_size=1, max_size=10)
    try:
        yield
    finally:
        await pool.close()


app = FastAPI(lifespan=lifespan)


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.exception_handler(asyncpg.UniqueViolationError)
async def conflict(_: Request, exc: asyncpg.UniqueViolationError) -> JSONResponse:
    return JSONResponse({"code": "id_conflict"}, status_code=409)


@app.post("/v1/checkins", status_code=201, response_model=CheckinOut)
async def create_checkin(
    body: CheckinCreate,
    x_bench_user: uuid.UUID = Header(),
    x_bench_company: uuid.UUID = Header(),
) -> CheckinOut:
    assert pool is not None
    payload = body.model_dump(mode="json", exclude={"id"})
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    received = datetime.now(UTC)
    lat, lng = body.location.lat, body.location.lng
    checkin_id = body.id or uuid.uuid4()
    await pool.fetchval(
        INSERT,
        checkin_id, x_bench_company, x_bench_user, body.customer_id, lat, lng,
        f"{lat:.6f},{lng:.6f}", body.location.accuracy_m, body.location.crs,
        body.client_recorded_at, received, body.offline, body.purpose, body.note,
        body.mock_location, body.device_id, None, "[]", True, None, None, digest, received,
    )  # fmt: skip
    return CheckinOut(
        id=checkin_id,
        user_id=x_bench_user,
        customer_id=body.customer_id,
        location=LocationOut(lat=round(lat, 7), lng=round(lng, 7), crs="wgs84"),
        accuracy_m=body.location.accuracy_m,
        submitted_crs=body.location.crs,
        client_recorded_at=body.client_recorded_at,
        received_at=received,
        offline=body.offline,
        purpose=body.purpose,
        note=body.note,
        photo_ids=[],
        mock_location=body.mock_location,
        device_id=body.device_id,
        distance_m=None,
        flags=[],
        counts_as_followup=True,
        checked_out_at=None,
        duration_s=None,
        created_at=received,
    )
