"""What every push provider adapter shares: the message, the target, the result, the client."""

import json
import ssl
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import httpx

from app.config import Settings
from app.core.clock import now

Outcome = Literal["sent", "retry", "invalid_token", "failed"]

# Providers cap a push at 4 KiB; a long inbox body is cut for the push (the inbox keeps it
# all). 500 characters stay under 1.5 KiB even in CJK, leaving room for title and data.
MAX_PUSH_BODY_CHARS = 500
MAX_ERROR_CHARS = 1000
REQUEST_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class PushMessage:
    """A notification as the providers carry it (title and body already in the user's locale)."""

    notification_id: uuid.UUID
    kind: str
    title: str
    body: str
    deep_link: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        notification_id: uuid.UUID,
        kind: str,
        title: str,
        body: str,
        deep_link: str | None,
        data: dict[str, Any] | None,
    ) -> "PushMessage":
        """The message of a notification row, its body cut to what a push can carry."""
        if len(body) > MAX_PUSH_BODY_CHARS:
            body = body[: MAX_PUSH_BODY_CHARS - 1] + "…"
        return cls(notification_id, kind, title, body, deep_link, dict(data or {}))

    def string_data(self) -> dict[str, str]:
        """Custom data with string values only (FCM's rule), plus the notification's ids."""
        values = {
            key: value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
            for key, value in self.data.items()
        }
        values.update(notification_id=str(self.notification_id), kind=self.kind)
        if self.deep_link:
            values["deep_link"] = self.deep_link
        return values


@dataclass(frozen=True)
class PushTarget:
    """One device to push to: `token` is the FCM/APNs token or the Web Push endpoint."""

    device_id: uuid.UUID
    platform: str
    token: str
    keys: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PushResult:
    """What one attempt at one device came to; `retry_after_s` is the provider's wish."""

    outcome: Outcome
    status_code: int | None = None
    error: str | None = None
    retry_after_s: float | None = None

    @classmethod
    def failed(cls, error: str, status_code: int | None = None) -> "PushResult":
        """A permanent failure (not retried) with the reason."""
        return cls("failed", status_code, error[:MAX_ERROR_CHARS])


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` as seconds from now (delta-seconds or an HTTP date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when: datetime = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max((when - now()).total_seconds(), 0.0)


def transient(response: httpx.Response, error: str) -> PushResult:
    """A 429/5xx: try again later, as soon as the provider's `Retry-After` allows."""
    return PushResult(
        "retry",
        response.status_code,
        error[:MAX_ERROR_CHARS],
        retry_after_seconds(response.headers.get("retry-after")),
    )


def is_transient(status_code: int) -> bool:
    """Statuses worth another try: throttling and server errors."""
    return status_code == 429 or status_code >= 500


def network_error(exc: httpx.HTTPError) -> PushResult:
    """No answer from the provider (connect, TLS, timeout): retried."""
    return PushResult("retry", None, f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS])


def response_error(response: httpx.Response) -> str:
    """A short description of a provider's error answer."""
    return f"HTTP {response.status_code}: {response.text[:500]}"


def http_client(settings: Settings, *, http2_only: bool = False) -> httpx.AsyncClient:
    """An HTTP client of a push run: HTTP/2 where offered, or only HTTP/2 (APNs requires it)."""
    verify: ssl.SSLContext | bool = True
    if settings.push_ca_bundle:
        verify = ssl.create_default_context(cafile=settings.push_ca_bundle)
    return httpx.AsyncClient(
        http1=not http2_only,
        http2=True,
        verify=verify,
        timeout=httpx.Timeout(REQUEST_TIMEOUT_S),
        limits=httpx.Limits(max_connections=50),
    )
