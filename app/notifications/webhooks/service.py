"""Webhooks: admin subscriptions, the outbox of deliveries, and the SSRF guard on their URLs."""

import asyncio
import json
import secrets
import socket
import uuid
from datetime import datetime
from typing import Any

import httpx
from pydantic_core import to_jsonable_python
from sqlalchemy import DateTime, String, Uuid, any_, bindparam, func, literal, select, text
from sqlalchemy.dialects.postgresql import JSONB, Insert, insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.config import get_settings
from app.core.clock import now
from app.core.concurrency import check_if_match
from app.core.errors import forbidden, not_found
from app.core.pagination import PageParams, make_page, paginate
from app.db import rowcount, table_of
from app.notifications import errors
from app.notifications.models import Webhook, WebhookDelivery
from app.notifications.webhooks.rules import (
    EVENT_TYPES,
    IPAddress,
    is_forbidden_address,
    parse_address,
    rfc3339,
)
from app.notifications.webhooks.schemas import WebhookCreate, WebhookUpdate

TEST_EVENT = "webhook.test"
DNS_TIMEOUT_S = 5.0
MIN_PORT, MAX_PORT = 1, 65535  # httpx parses any integer port, 0 and 99999 included


class ForbiddenAddressError(ValueError):
    """The host resolves to an address webhooks may not reach."""


def _host_key(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def private_hosts_allowed() -> frozenset[str]:
    """Hosts exempt from the address guard (OUTFIELD_WEBHOOK_ALLOW_PRIVATE_HOSTS; dev/tests)."""
    raw = get_settings().webhook_allow_private_hosts
    return frozenset(_host_key(host) for host in raw.split(",") if host.strip())


async def vetted_addresses(url: httpx.URL) -> list[IPAddress]:
    """The host's addresses; ForbiddenAddressError if any is off limits, OSError if none."""
    port = url.port or (443 if url.scheme == "https" else 80)
    lookup = asyncio.get_running_loop().getaddrinfo(
        url.raw_host.decode("ascii"), port, type=socket.SOCK_STREAM
    )
    infos = await asyncio.wait_for(lookup, DNS_TIMEOUT_S)  # TimeoutError is an OSError
    addresses = list(dict.fromkeys(parse_address(str(info[4][0])) for info in infos))
    if not addresses:
        raise OSError(f"{url.host} has no addresses")
    if _host_key(url.host) not in private_hosts_allowed() and any(
        is_forbidden_address(address) for address in addresses
    ):
        raise ForbiddenAddressError(f"{url.host} resolves to a forbidden address")
    return addresses


async def check_url(raw: str) -> str:
    """The URL if a webhook may target it: https (or allowed http), public addresses only."""
    try:
        url = httpx.URL(raw.strip())
    except (httpx.InvalidURL, TypeError) as exc:
        raise errors.webhook_url_invalid("The URL cannot be parsed.") from exc
    allowed = ("https", "http") if get_settings().webhook_allow_insecure_urls else ("https",)
    if url.scheme not in allowed:
        raise errors.webhook_url_insecure("The URL must use https.")
    if not url.host or url.userinfo:
        raise errors.webhook_url_invalid("The URL needs a host and may not carry credentials.")
    if url.port is not None and not MIN_PORT <= url.port <= MAX_PORT:
        raise errors.webhook_url_invalid(f"The port must be {MIN_PORT}–{MAX_PORT}.")
    try:
        await vetted_addresses(url)
    except ForbiddenAddressError as exc:
        raise errors.webhook_url_forbidden(
            "The URL resolves to a loopback, private, link-local or reserved address.",
        ) from exc
    except (OSError, UnicodeError) as exc:
        raise errors.webhook_url_unresolvable("The URL's host does not resolve.") from exc
    return str(url.copy_with(fragment=None))


def _admin_only(principal: Principal) -> None:
    if not principal.is_admin:
        raise forbidden("Only admins manage webhooks.")


async def create_webhook(
    session: AsyncSession, principal: Principal, data: WebhookCreate
) -> Webhook:
    """A new subscription with a fresh signing secret (returned this once)."""
    _admin_only(principal)
    webhook = Webhook(
        id=uuid.uuid4(),
        company_id=principal.company_id,
        url=await check_url(data.url),
        event_types=list(dict.fromkeys(data.event_types)),
        secret=secrets.token_urlsafe(32),
        description=data.description,
        active=data.active,
        created_by=principal.user_id,
        version=1,
    )
    session.add(webhook)
    await session.flush()
    return webhook


async def get_webhook(
    session: AsyncSession, principal: Principal, webhook_id: uuid.UUID
) -> Webhook:
    """One live webhook of the caller's company, or 404."""
    _admin_only(principal)
    webhook = await session.scalar(
        select(Webhook).where(
            Webhook.id == webhook_id,
            Webhook.company_id == principal.company_id,
            Webhook.deleted_at.is_(None),
        )
    )
    if webhook is None:
        raise not_found("webhook")
    return webhook


async def list_webhooks(
    session: AsyncSession, principal: Principal, params: PageParams
) -> tuple[list[Webhook], str | None]:
    """The company's webhooks, newest first."""
    _admin_only(principal)
    stmt = select(Webhook).where(
        Webhook.company_id == principal.company_id, Webhook.deleted_at.is_(None)
    )
    rows = list(
        (await session.execute(paginate(stmt, Webhook.created_at, Webhook.id, params))).scalars()
    )
    return make_page(rows, params)


async def update_webhook(
    session: AsyncSession,
    principal: Principal,
    webhook_id: uuid.UUID,
    data: WebhookUpdate,
    if_match: str | None,
) -> Webhook:
    """Change URL, event types, description or active (If-Match required)."""
    webhook = await get_webhook(session, principal, webhook_id)
    check_if_match(if_match, webhook.version)
    fields = data.model_fields_set
    if "url" in fields and data.url is not None:
        webhook.url = await check_url(data.url)
    if "event_types" in fields and data.event_types is not None:
        webhook.event_types = list(dict.fromkeys(data.event_types))
    if "active" in fields and data.active is not None:
        webhook.active = data.active
    if "description" in fields:
        webhook.description = data.description
    webhook.version += 1
    await session.flush()
    return webhook


async def rotate_secret(
    session: AsyncSession, principal: Principal, webhook_id: uuid.UUID
) -> Webhook:
    """A new signing secret; deliveries sent from now on use it."""
    webhook = await get_webhook(session, principal, webhook_id)
    webhook.secret = secrets.token_urlsafe(32)
    webhook.version += 1
    await session.flush()
    return webhook


async def delete_webhook(
    session: AsyncSession, principal: Principal, webhook_id: uuid.UUID
) -> None:
    """Soft delete; its pending deliveries are failed by the worker, not sent."""
    webhook = await get_webhook(session, principal, webhook_id)
    webhook.deleted_at = now()
    webhook.active = False
    webhook.version += 1
    await session.flush()


async def list_deliveries(
    session: AsyncSession, principal: Principal, webhook_id: uuid.UUID, params: PageParams
) -> tuple[list[WebhookDelivery], str | None]:
    """A webhook's deliveries, newest first."""
    webhook = await get_webhook(session, principal, webhook_id)
    stmt = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)
    rows = list(
        (
            await session.execute(
                paginate(stmt, WebhookDelivery.created_at, WebhookDelivery.id, params)
            )
        ).scalars()
    )
    return make_page(rows, params)


def event_payload(
    event_id: uuid.UUID,
    event_type: str,
    company_id: uuid.UUID,
    subject: dict[str, Any],
    occurred_at: datetime,
) -> dict[str, Any]:
    """The JSON body every delivery of an event carries."""
    return {
        "id": str(event_id),
        "type": event_type,
        "occurred_at": rfc3339(occurred_at),
        "company_id": str(company_id),
        "data": to_jsonable_python(subject),
    }


async def send_test_event(
    session: AsyncSession, principal: Principal, webhook_id: uuid.UUID
) -> WebhookDelivery:
    """Queue a `webhook.test` delivery to this webhook only."""
    webhook = await get_webhook(session, principal, webhook_id)
    if not webhook.active:
        raise errors.webhook_inactive()
    at = now()
    event_id = uuid.uuid4()
    subject = {"webhook_id": webhook.id, "message": "A test event from Outfield."}
    delivery = WebhookDelivery(
        id=uuid.uuid4(),
        company_id=webhook.company_id,
        webhook_id=webhook.id,
        event_id=event_id,
        event_type=TEST_EVENT,
        payload=event_payload(event_id, TEST_EVENT, webhook.company_id, subject, at),
        status="pending",
        attempts=0,
        next_attempt_at=at,
        created_at=at,
    )
    session.add(delivery)
    await session.flush()
    return delivery


def _enqueue_statement() -> Insert:
    """One pending delivery per subscribed webhook (built once; parameters: company_id,
    event_id, event_type, payload, at)."""
    event_type = bindparam("event_type", type_=String())
    at = bindparam("at", type_=DateTime(timezone=True))
    subscribed = select(
        func.gen_random_uuid(),
        Webhook.company_id,
        Webhook.id,
        bindparam("event_id", type_=Uuid()),
        event_type,
        bindparam("payload", type_=JSONB()),
        literal("pending", String()),
        literal(0),
        at,
        at,
    ).where(
        Webhook.company_id == bindparam("company_id", type_=Uuid()),
        Webhook.active.is_(True),
        Webhook.deleted_at.is_(None),
        event_type == any_(Webhook.event_types),
    )
    columns = [
        "id",
        "company_id",
        "webhook_id",
        "event_id",
        "event_type",
        "payload",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
    ]
    return (
        insert(table_of(WebhookDelivery)).from_select(columns, subscribed).on_conflict_do_nothing()
    )


_ENQUEUE = _enqueue_statement()

# Many events of one type at once (a set of ownership changes): one fixed-shape statement
# over arrays, whatever the number of events.
_ENQUEUE_MANY = text("""
INSERT INTO webhook_deliveries (id, company_id, webhook_id, event_id, event_type, payload,
                                status, attempts, next_attempt_at, created_at)
SELECT gen_random_uuid(), w.company_id, w.id, e.event_id, :event_type, e.payload::jsonb,
       'pending', 0, :at, :at
FROM unnest(CAST(:company_ids AS uuid[]), CAST(:event_ids AS uuid[]), CAST(:payloads AS text[]))
     AS e(company_id, event_id, payload)
JOIN webhooks w ON w.company_id = e.company_id AND w.active AND w.deleted_at IS NULL
               AND :event_type = ANY(w.event_types)
ON CONFLICT DO NOTHING
""")


async def enqueue_events(
    session: AsyncSession,
    event_type: str,
    events: list[tuple[uuid.UUID, uuid.UUID, dict[str, Any]]],
    occurred_at: datetime,
) -> int:
    """Outbox for a set of events of one type: (company_id, event_id, subject) each; the
    payload of each is `event_payload`'s, as for a single event."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    if not events:
        return 0
    payloads = [
        json.dumps(event_payload(event_id, event_type, company_id, subject, occurred_at))
        for company_id, event_id, subject in events
    ]
    result = await session.execute(
        _ENQUEUE_MANY,
        {
            "event_type": event_type,
            "at": now(),
            "company_ids": [company_id for company_id, _, _ in events],
            "event_ids": [event_id for _, event_id, _ in events],
            "payloads": payloads,
        },
    )
    return rowcount(result)


async def enqueue_event(
    session: AsyncSession,
    company_id: uuid.UUID,
    event_type: str,
    subject: dict[str, Any],
    *,
    event_id: uuid.UUID | None = None,
    occurred_at: datetime | None = None,
) -> int:
    """Outbox: one pending delivery per subscribed webhook, in the caller's transaction."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    at = now()
    event_id = event_id or uuid.uuid4()
    payload = event_payload(event_id, event_type, company_id, subject, occurred_at or at)
    result = await session.execute(
        _ENQUEUE,
        {
            "company_id": company_id,
            "event_id": event_id,
            "event_type": event_type,
            "payload": payload,
            "at": at,
        },
    )
    return rowcount(result)
