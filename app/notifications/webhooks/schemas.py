"""Request and response bodies of the webhook endpoints."""

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.schemas import Strict
from app.notifications.webhooks.rules import EventType


class WebhookCreate(Strict):
    """Subscribe an HTTPS URL to event types."""

    url: str = Field(..., min_length=1, max_length=2000, examples=["https://example.com/hooks"])
    event_types: list[EventType] = Field(..., min_length=1, max_length=50)
    description: str | None = Field(None, max_length=500)
    active: bool = True


class WebhookUpdate(Strict):
    """Only the fields sent change."""

    url: str | None = Field(None, min_length=1, max_length=2000)
    event_types: list[EventType] | None = Field(None, min_length=1, max_length=50)
    description: str | None = Field(None, max_length=500)
    active: bool | None = None


class WebhookOut(BaseModel):
    """A subscription; the secret is never shown again after create or rotate."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    url: str
    event_types: list[str]
    description: str | None
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class WebhookWithSecret(WebhookOut):
    """Create and rotate-secret responses: the signing secret, shown this once."""

    secret: str = Field(
        ..., description="Signs every delivery; store it now, it is not shown again."
    )


class DeliveryOut(BaseModel):
    """One event for one webhook, with how its delivery went."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    webhook_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime | None = Field(None, description="Null once delivered or failed.")
    last_status_code: int | None
    last_error: str | None
    last_duration_ms: int | None
    delivered_at: datetime | None
    created_at: datetime
    payload: dict[str, Any] = Field(..., description="The JSON body sent (and signed).")
