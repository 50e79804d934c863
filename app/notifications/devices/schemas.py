"""Request/response shapes of push devices."""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.schemas import Strict

Platform = Literal["fcm", "apns", "webpush"]


class WebPushKeys(Strict):
    """The `keys` of a browser's PushSubscription (`subscription.toJSON().keys`)."""

    p256dh: str = Field(
        min_length=1,
        max_length=200,
        description="The subscription's P-256 public key: base64url of the 65-byte point.",
    )
    auth: str = Field(
        min_length=1, max_length=100, description="The 16-byte auth secret, base64url."
    )


class DeviceIn(Strict):
    """A push token of one of the caller's devices."""

    platform: Platform = Field(description="`fcm` (Android), `apns` (iOS) or `webpush`.")
    token: str = Field(
        min_length=1,
        max_length=2000,
        description="The FCM registration token, the APNs device token (hex), or the Web Push "
        "subscription's `endpoint` URL.",
    )
    keys: WebPushKeys | None = Field(None, description="Required for `webpush`, else omitted.")
    device_name: str | None = Field(
        None, max_length=200, description="A name the user recognises, e.g. “Li Wei's Pixel”."
    )


class DeviceOut(BaseModel):
    """A registered push device of the caller."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    platform: Platform
    token: str
    device_name: str | None
    active: bool = Field(
        description="False once the provider reported the token invalid; register it again "
        "(or a new token) to resume pushes."
    )
    deactivated_reason: str | None
    created_at: datetime
    updated_at: datetime
