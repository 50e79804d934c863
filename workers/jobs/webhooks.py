"""Webhook delivery: claim due deliveries, POST them signed, record the outcome, retry or give up.

A claim is a lease: the claiming UPDATE moves `next_attempt_at` LEASE into the future and
commits before anything is sent, so a second worker skips the rows (locked, or no longer
due) and a crashed worker's deliveries come back once the lease runs out. Delivery is
at least once; receivers dedupe on `Outfield-Event-Id`.
"""

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import get_settings
from app.core.clock import now
from app.db import session_factory
from app.notifications.models import Webhook, WebhookDelivery
from app.notifications.webhook_rules import retry_delay, signature
from app.notifications.webhooks import ForbiddenAddressError, vetted_addresses

BATCH = 50
CONCURRENCY = 10
LEASE = timedelta(minutes=5)
TIMEOUT = httpx.Timeout(10.0)
# Stop taking new batches after this long so a run stays well inside arq's job timeout.
RUN_BUDGET_S = 240.0
MAX_ADDRESSES_TRIED = 3
USER_AGENT = "Outfield-Webhooks/1"


@dataclass(frozen=True)
class Claim:
    id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime
    lease_until: datetime
    url: str
    secret: str
    gone: str | None  # why the webhook no longer takes deliveries, if it does not


@dataclass(frozen=True)
class Outcome:
    status_code: int | None = None
    error: str | None = None
    duration_ms: int | None = None
    final: bool = False  # no retry (forbidden address, webhook gone)

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def _claim(session: AsyncSession, at: datetime) -> list[Claim]:
    due = (
        select(WebhookDelivery.id)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= at)
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    lease_until = at + LEASE
    rows = await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(due.scalar_subquery()))
        .where(WebhookDelivery.webhook_id == Webhook.id)
        .values(next_attempt_at=lease_until)
        .returning(
            WebhookDelivery.id,
            WebhookDelivery.event_id,
            WebhookDelivery.event_type,
            WebhookDelivery.payload,
            WebhookDelivery.attempts,
            WebhookDelivery.created_at,
            Webhook.url,
            Webhook.secret,
            Webhook.active,
            Webhook.deleted_at,
        )
    )
    claims = [
        Claim(
            id=row.id,
            event_id=row.event_id,
            event_type=row.event_type,
            payload=row.payload,
            attempts=row.attempts,
            created_at=row.created_at,
            lease_until=lease_until,
            url=row.url,
            secret=row.secret,
            gone="webhook deleted"
            if row.deleted_at is not None
            else (None if row.active else "webhook inactive"),
        )
        for row in rows
    ]
    await session.commit()
    return claims


def _headers(claim: Claim, body: bytes, host: str) -> dict[str, str]:
    timestamp = int(now().timestamp())
    return {
        "Host": host,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Outfield-Event-Id": str(claim.event_id),
        "Outfield-Event-Type": claim.event_type,
        "Outfield-Timestamp": str(timestamp),
        "Outfield-Signature": signature(claim.secret, timestamp, body),
    }


async def _send(client: httpx.AsyncClient, claim: Claim) -> Outcome:
    """Resolve, vet and pin the address, then POST to that IP with the real Host and SNI."""
    if claim.gone:
        return Outcome(error=claim.gone, final=True)
    url = httpx.URL(claim.url)
    try:
        addresses = await vetted_addresses(url)
    except ForbiddenAddressError:
        return Outcome(error="forbidden address", final=True)
    except (OSError, UnicodeError) as exc:
        return Outcome(error=f"dns: {exc}"[:1000])
    body = json.dumps(claim.payload, separators=(",", ":"), ensure_ascii=False).encode()
    headers = _headers(claim, body, url.netloc.decode("ascii"))
    extensions = {"sni_hostname": url.raw_host.decode("ascii")} if url.scheme == "https" else {}
    started = time.monotonic()
    error = "no address"
    for address in addresses[:MAX_ADDRESSES_TRIED]:
        pinned = url.copy_with(host=str(address))
        try:
            async with client.stream(
                "POST", pinned, content=body, headers=headers, extensions=extensions
            ) as response:
                code = response.status_code
        except httpx.ConnectError as exc:
            error = f"connect: {exc}"
            continue
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
            break
        elapsed = int((time.monotonic() - started) * 1000)
        note = None if 200 <= code < 300 else f"HTTP {code}"
        if 300 <= code < 400:
            note = f"HTTP {code} (redirects are not followed)"
        return Outcome(status_code=code, error=note, duration_ms=elapsed)
    elapsed = int((time.monotonic() - started) * 1000)
    return Outcome(error=error[:1000], duration_ms=elapsed)


def _result(claim: Claim, outcome: Outcome, at: datetime) -> tuple[str, dict[str, Any]]:
    """(count key, column values) for a finished attempt."""
    values: dict[str, Any] = {
        "attempts": claim.attempts + (0 if claim.gone else 1),
        "last_status_code": outcome.status_code,
        "last_error": outcome.error,
        "last_duration_ms": outcome.duration_ms,
    }
    if outcome.delivered:
        return "delivered", {**values, "status": "delivered", "delivered_at": at}
    retry_at = at + retry_delay(values["attempts"])
    window = timedelta(seconds=get_settings().webhook_retry_window_s)
    if outcome.final or retry_at - claim.created_at > window:
        return "failed", {**values, "status": "failed"}
    return "retried", {**values, "next_attempt_at": retry_at}


async def _deliver_batch(
    client: httpx.AsyncClient, claims: list[Claim], counts: dict[str, int]
) -> None:
    limit = asyncio.Semaphore(CONCURRENCY)

    async def bounded(claim: Claim) -> Outcome:
        async with limit:
            return await _send(client, claim)

    outcomes = await asyncio.gather(*(bounded(claim) for claim in claims))
    at = now()
    async with session_factory()() as session:
        for claim, outcome in zip(claims, outcomes, strict=True):
            key, values = _result(claim, outcome, at)
            # Only the lease holder records the outcome (the lease value is the fence).
            await session.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.id == claim.id,
                    WebhookDelivery.status == "pending",
                    WebhookDelivery.next_attempt_at == claim.lease_until,
                )
                .values(**values)
            )
            counts[key] += 1
        await session.commit()


async def deliver_pending_webhooks(counts: dict[str, int]) -> None:
    """One run: claim due deliveries batch by batch, send them, record delivered/retry/failed."""
    counts.update(examined=0, delivered=0, retried=0, failed=0)
    started = time.monotonic()
    async with httpx.AsyncClient(
        timeout=TIMEOUT,
        follow_redirects=False,
        trust_env=False,
        limits=httpx.Limits(max_connections=CONCURRENCY),
    ) as client:
        while time.monotonic() - started < RUN_BUDGET_S:
            async with session_factory()() as session:
                claims = await _claim(session, now())
            counts["examined"] += len(claims)
            if claims:
                await _deliver_batch(client, claims, counts)
            if len(claims) < BATCH:
                break
