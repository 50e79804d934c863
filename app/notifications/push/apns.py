"""APNs over HTTP/2 with token-based (ES256 JWT) provider authentication.

Apple wants the provider token reused and renewed between 20 and 60 minutes of age, so it is
kept and re-signed after `PROVIDER_TOKEN_LIFETIME`.
"""

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import jwt

from app.config import Settings
from app.core.clock import now
from app.notifications.push.common import (
    PushMessage,
    PushResult,
    PushTarget,
    is_transient,
    network_error,
    response_error,
    transient,
)

PROVIDER_TOKEN_LIFETIME = timedelta(minutes=50)
INVALID_TOKEN_REASONS = {"BadDeviceToken", "Unregistered", "DeviceTokenNotForTopic"}
STALE_PROVIDER_TOKEN_REASONS = {"ExpiredProviderToken", "InvalidProviderToken"}
ALERT_PRIORITY = "10"


def _reason(response: httpx.Response) -> str:
    try:
        return str(response.json().get("reason", ""))
    except (ValueError, AttributeError):
        return ""


def classify(response: httpx.Response) -> PushResult:
    """An APNs answer as an outcome: 410, or a bad/unregistered token, is `invalid_token`."""
    if response.status_code == 200:
        return PushResult("sent", 200)
    reason = _reason(response)
    error = response_error(response)
    if response.status_code == 410 or reason in INVALID_TOKEN_REASONS:
        return PushResult("invalid_token", response.status_code, error[:1000])
    if is_transient(response.status_code):
        return transient(response, error)
    return PushResult.failed(error, response.status_code)


def payload(message: PushMessage) -> dict[str, Any]:
    """The APNs JSON: the alert under `aps`, custom data beside it."""
    body: dict[str, Any] = dict(message.data)
    body.update(notification_id=str(message.notification_id), kind=message.kind)
    if message.deep_link:
        body["deep_link"] = message.deep_link
    body["aps"] = {"alert": {"title": message.title, "body": message.body}, "sound": "default"}
    return body


class ApnsSender:
    """Sends to APNs device tokens; one instance per settings, keeping the provider token."""

    platform = "apns"
    http2_only = True

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._key: str | None = None
        self._provider_token: str | None = None
        self._signed_at: datetime | None = None

    def configuration_error(self) -> str | None:
        """Why this provider cannot send, or None when it is configured."""
        settings = self._settings
        required = {
            "OUTFIELD_APNS_KEY_PATH": settings.apns_key_path,
            "OUTFIELD_APNS_KEY_ID": settings.apns_key_id,
            "OUTFIELD_APNS_TEAM_ID": settings.apns_team_id,
            "OUTFIELD_APNS_TOPIC": settings.apns_topic,
        }
        missing = [name for name, value in required.items() if not value]
        if missing:
            return f"APNs is not configured: set {', '.join(missing)}"
        if self._key is None:
            try:
                self._key = Path(str(settings.apns_key_path)).read_text(encoding="utf-8")
            except OSError as exc:
                return f"APNs key unreadable: {type(exc).__name__}: {exc}"
        return None

    def provider_token(self, *, renew: bool = False) -> str:
        """The ES256 provider JWT (iss = team id, kid = key id), re-signed when it ages out."""
        at = now()
        stale = self._signed_at is None or at - self._signed_at >= PROVIDER_TOKEN_LIFETIME
        if renew or stale or self._provider_token is None:
            if self._key is None:  # `configuration_error()` loads it before any send
                raise RuntimeError("APNs key not loaded")
            self._provider_token = jwt.encode(
                {"iss": self._settings.apns_team_id, "iat": int(at.timestamp())},
                self._key,
                algorithm="ES256",
                headers={"kid": self._settings.apns_key_id},
            )
            self._signed_at = at
        return self._provider_token

    def _headers(self, message: PushMessage, *, renew: bool = False) -> dict[str, str]:
        return {
            "authorization": f"bearer {self.provider_token(renew=renew)}",
            "apns-topic": str(self._settings.apns_topic),
            "apns-push-type": "alert",
            "apns-priority": ALERT_PRIORITY,
            "apns-id": str(message.notification_id),
        }

    async def send(
        self, http: httpx.AsyncClient, target: PushTarget, message: PushMessage
    ) -> PushResult:
        """One POST /3/device/{token} over HTTP/2."""
        problem = self.configuration_error()
        if problem:
            return PushResult.failed(problem)
        url = f"{self._settings.apns_base_url.rstrip('/')}/3/device/{quote(target.token, safe='')}"
        content = json.dumps(payload(message), separators=(",", ":")).encode()
        try:
            headers = self._headers(message)
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            return PushResult.failed(f"APNs key unusable: {type(exc).__name__}: {exc}")
        try:
            response = await http.post(url, content=content, headers=headers)
            if response.status_code == 403 and _reason(response) in STALE_PROVIDER_TOKEN_REASONS:
                headers = self._headers(message, renew=True)
                response = await http.post(url, content=content, headers=headers)
        except httpx.HTTPError as exc:
            return network_error(exc)
        return classify(response)
