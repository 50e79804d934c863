"""Webhook delivery: the webhook channel of the outbox runner (app/notifications/delivery.py).

The runner claims, leases, sends and settles; this module says what is particular to
webhooks: a delivery is POSTed signed to its webhook's vetted, pinned address, a 2xx is
`delivered`, anything else is retried (30 s doubling to hourly, + up to 10 %) until the next
try would fall outside OUTFIELD_WEBHOOK_RETRY_WINDOW_S, then `failed`; a paused or deleted
webhook's deliveries fail unsent. A delivery stays `pending` while leased (its
`next_attempt_at` is then the lease expiry), so a crashed worker's deliveries come back once
the lease runs out. Delivery is at least once; receivers dedupe on `Outfield-Event-Id`.
"""

import json
import time
import uuid
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import ColumnElement, Row
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import get_settings
from app.core.clock import now
from app.db import table_of
from app.notifications import delivery
from app.notifications.delivery import Backoff, Lease, Limits, Settlement, Settling
from app.notifications.models import Webhook, WebhookDelivery
from app.notifications.webhooks.rules import FIRST_RETRY, LONGEST_RETRY, signature
from app.notifications.webhooks.service import ForbiddenAddressError, vetted_addresses

BATCH = 50
CONCURRENCY = 10
LEASE = timedelta(minutes=5)
TIMEOUT = httpx.Timeout(10.0)
# Stop taking new batches after this long so a run stays well inside arq's job timeout.
RUN_BUDGET_S = 240.0
MAX_ADDRESSES_TRIED = 3
USER_AGENT = "Outfield-Webhooks/1"
COUNTS = ("examined", "delivered", "retried", "failed")
# README: retried after 30 s, 1, 2, 4, … min, then hourly, + up to 10 % (no Retry-After).
BACKOFF = Backoff(FIRST_RETRY.total_seconds(), LONGEST_RETRY.total_seconds(), 1.0, 1.1)

_table = table_of(WebhookDelivery)


@dataclass(frozen=True)
class Claim:
    """A delivery this run holds the lease of, with its webhook's address and secret."""

    id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime
    url: str
    secret: str
    gone: str | None  # why the webhook no longer takes deliveries, if it does not


@dataclass(frozen=True)
class Outcome:
    """What one POST came to."""

    status_code: int | None = None
    error: str | None = None
    duration_ms: int | None = None
    final: bool = False  # no retry (forbidden address, webhook gone)

    @property
    def delivered(self) -> bool:
        """Any 2xx."""
        return self.status_code is not None and 200 <= self.status_code < 300


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


class WebhookChannel(delivery.Channel[Claim, Outcome]):
    """Signed event POSTs to the companies' webhooks."""

    name = "webhooks"
    table = _table
    state_column = _table.c.status
    due_column = _table.c.next_attempt_at
    leased_state = "pending"  # the API knows pending | delivered | failed only
    counts = COUNTS

    def __init__(self, limits: Limits, retry_window: timedelta) -> None:
        super().__init__(limits, BACKOFF)
        self.retry_window = retry_window

    def claim_order(self) -> Sequence[ColumnElement[Any]]:
        """The longest-waiting deliveries first."""
        return (_table.c.next_attempt_at,)

    def claim_joins(self) -> Sequence[ColumnElement[bool]]:
        """Each delivery's webhook, for its address, secret and whether it still takes any."""
        return (_table.c.webhook_id == Webhook.id,)

    def claim_returning(self) -> Sequence[Any]:
        """The event, its tries so far, and the webhook's address, secret and state."""
        c = _table.c
        return (
            c.id,
            c.event_id,
            c.event_type,
            c.payload,
            c.attempts,
            c.created_at,
            Webhook.url,
            Webhook.secret,
            Webhook.active,
            Webhook.deleted_at,
        )

    def connect(self) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        """The run's HTTP client: no redirects, no proxy settings from the environment."""
        return httpx.AsyncClient(
            timeout=TIMEOUT,
            follow_redirects=False,
            trust_env=False,
            limits=httpx.Limits(max_connections=self.limits.concurrency),
        )

    async def prepare(
        self, session: AsyncSession, rows: Sequence[Row[Any]], lease: Lease
    ) -> list[Claim]:
        """A claim per row; a paused or deleted webhook's say why they are not sent."""
        return [
            Claim(
                id=row.id,
                event_id=row.event_id,
                event_type=row.event_type,
                payload=row.payload,
                attempts=row.attempts,
                created_at=row.created_at,
                url=row.url,
                secret=row.secret,
                gone="webhook deleted"
                if row.deleted_at is not None
                else (None if row.active else "webhook inactive"),
            )
            for row in rows
        ]

    def targets(self, item: Claim) -> Sequence[str]:
        """One POST, to the webhook's URL."""
        return (item.url,)

    async def send(self, connection: httpx.AsyncClient, item: Claim, target: str) -> Outcome:
        """One signed POST (none for a webhook that is gone)."""
        return await _send(connection, item)

    def settle(self, item: Claim, results: list[Outcome], settling: Settling) -> Settlement:
        """Delivered on a 2xx; else retried after a backoff, or failed past the retry window."""
        [outcome] = results
        values: dict[str, Any] = {
            "attempts": item.attempts + (0 if item.gone else 1),
            "last_status_code": outcome.status_code,
            "last_error": outcome.error,
            "last_duration_ms": outcome.duration_ms,
        }
        if outcome.delivered:
            return Settlement(
                "delivered", {**values, "status": "delivered", "delivered_at": settling.at}
            )
        retry_at = settling.retry_at(values["attempts"])
        if outcome.final or retry_at - item.created_at > self.retry_window:
            return Settlement("failed", {**values, "status": "failed"})
        return Settlement("retried", {**values, "next_attempt_at": retry_at})


def channel() -> WebhookChannel:
    """The webhook channel with this module's limits and the current settings."""
    limits = Limits(batch=BATCH, concurrency=CONCURRENCY, lease=LEASE, budget_s=RUN_BUDGET_S)
    window = timedelta(seconds=get_settings().webhook_retry_window_s)
    return WebhookChannel(limits, window)


async def deliver_pending_webhooks(counts: dict[str, int]) -> None:
    """One run: claim due deliveries batch by batch, send them, record delivered/retry/failed."""
    counts.update(dict.fromkeys(COUNTS, 0))
    await delivery.run(channel(), counts)
