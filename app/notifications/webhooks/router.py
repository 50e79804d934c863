"""HTTP: webhook subscriptions, their deliveries and test events (admins)."""

import uuid

from fastapi import APIRouter, Response

from app.core.concurrency import IfMatch, etag_for
from app.core.errors import problem_responses
from app.core.pagination import Page
from app.deps import AdminCaller, Paging, Session
from app.notifications.models import Webhook, WebhookDelivery
from app.notifications.webhooks import service as webhooks
from app.notifications.webhooks.schemas import (
    DeliveryOut,
    WebhookCreate,
    WebhookOut,
    WebhookUpdate,
    WebhookWithSecret,
)

router = APIRouter(tags=["webhooks"])


def webhook_out(webhook: Webhook, response: Response) -> WebhookOut:
    response.headers["ETag"] = etag_for(webhook.version)
    return WebhookOut.model_validate(webhook)


def with_secret(webhook: Webhook, response: Response) -> WebhookWithSecret:
    response.headers["ETag"] = etag_for(webhook.version)
    response.headers["Cache-Control"] = "no-store"
    return WebhookWithSecret.model_validate(webhook)


def delivery_out(delivery: WebhookDelivery) -> DeliveryOut:
    out = DeliveryOut.model_validate(delivery)
    if delivery.status != "pending":
        out.next_attempt_at = None
    return out


@router.post(
    "/v1/webhooks",
    status_code=201,
    response_model=WebhookWithSecret,
    summary="Subscribe a URL to events",
    responses=problem_responses(401, 403, 422),
)
async def create_webhook(
    body: WebhookCreate,
    response: Response,
    principal: AdminCaller,
    session: Session,
) -> WebhookWithSecret:
    """Admin only. The URL must be https and resolve to public addresses only (422
    `webhook_url_insecure` / `webhook_url_forbidden` / `webhook_url_unresolvable`). The response
    carries the signing `secret`, shown this once."""
    return with_secret(await webhooks.create_webhook(session, principal, body), response)


@router.get(
    "/v1/webhooks",
    response_model=Page[WebhookOut],
    summary="List webhooks",
    responses=problem_responses(401, 403, 422),
)
async def list_webhooks(
    params: Paging,
    principal: AdminCaller,
    session: Session,
) -> Page[WebhookOut]:
    """Admin only; newest first; no secrets."""
    rows, next_cursor = await webhooks.list_webhooks(session, principal, params)
    return Page[WebhookOut](
        items=[WebhookOut.model_validate(row) for row in rows], next_cursor=next_cursor
    )


@router.get(
    "/v1/webhooks/{webhook_id}",
    response_model=WebhookOut,
    summary="Get a webhook",
    responses=problem_responses(401, 403, 404, 422),
)
async def get_webhook(
    webhook_id: uuid.UUID,
    response: Response,
    principal: AdminCaller,
    session: Session,
) -> WebhookOut:
    """Admin only; no secret."""
    return webhook_out(await webhooks.get_webhook(session, principal, webhook_id), response)


@router.patch(
    "/v1/webhooks/{webhook_id}",
    response_model=WebhookOut,
    summary="Change a webhook",
    responses=problem_responses(401, 403, 404, 412, 422),
)
async def update_webhook(
    *,
    webhook_id: uuid.UUID,
    body: WebhookUpdate,
    response: Response,
    if_match: IfMatch = None,
    principal: AdminCaller,
    session: Session,
) -> WebhookOut:
    """URL, event types, description, active; `If-Match` required (428 without, 412 when
    stale)."""
    webhook = await webhooks.update_webhook(session, principal, webhook_id, body, if_match)
    return webhook_out(webhook, response)


@router.delete(
    "/v1/webhooks/{webhook_id}",
    status_code=204,
    summary="Delete a webhook",
    responses=problem_responses(401, 403, 404, 422),
)
async def delete_webhook(
    webhook_id: uuid.UUID,
    principal: AdminCaller,
    session: Session,
) -> Response:
    """Soft delete; deliveries still pending are not sent."""
    await webhooks.delete_webhook(session, principal, webhook_id)
    return Response(status_code=204)


@router.post(
    "/v1/webhooks/{webhook_id}/rotate-secret",
    operation_id="rotateWebhookSecret",
    response_model=WebhookWithSecret,
    summary="Rotate a webhook's secret",
    responses=problem_responses(401, 403, 404, 422),
)
async def rotate_secret(
    webhook_id: uuid.UUID,
    response: Response,
    principal: AdminCaller,
    session: Session,
) -> WebhookWithSecret:
    """A new signing secret, shown this once; the old one stops signing at once."""
    return with_secret(await webhooks.rotate_secret(session, principal, webhook_id), response)


@router.get(
    "/v1/webhooks/{webhook_id}/deliveries",
    operation_id="listWebhookDeliveries",
    response_model=Page[DeliveryOut],
    summary="List a webhook's deliveries",
    responses=problem_responses(401, 403, 404, 422),
)
async def list_deliveries(
    webhook_id: uuid.UUID,
    params: Paging,
    principal: AdminCaller,
    session: Session,
) -> Page[DeliveryOut]:
    """Newest first: status, attempts, last response code or error, next attempt."""
    rows, next_cursor = await webhooks.list_deliveries(session, principal, webhook_id, params)
    return Page[DeliveryOut](items=[delivery_out(row) for row in rows], next_cursor=next_cursor)


@router.post(
    "/v1/webhooks/{webhook_id}/test",
    operation_id="sendWebhookTestEvent",
    status_code=202,
    response_model=DeliveryOut,
    summary="Send a test event",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def send_test_event(
    webhook_id: uuid.UUID,
    principal: AdminCaller,
    session: Session,
) -> DeliveryOut:
    """Queue a `webhook.test` delivery to this webhook only; 409 `webhook_inactive` if paused."""
    return delivery_out(await webhooks.send_test_event(session, principal, webhook_id))
