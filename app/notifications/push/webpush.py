"""Web Push (RFC 8030): payload encrypted per RFC 8291 (aes128gcm), signed with VAPID (RFC 8292).

The encryption and the VAPID signature come from pywebpush (and its py-vapid and http-ece);
both are local CPU work of well under a millisecond, so they run on the event loop. The
request itself goes through the push run's httpx client like every other provider's.
"""

import binascii
import json
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
from http_ece import ECEException
from py_vapid import Vapid, VapidException
from pywebpush import WebPusher, WebPushException

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

# How long the push service keeps a message for an offline browser.
TTL_S = 24 * 3600
# RFC 8292 allows at most 24 h; stay well inside it.
VAPID_LIFETIME = timedelta(hours=12)
CONTENT_ENCODING = "aes128gcm"
CRYPTO_ERRORS = (
    WebPushException,
    ECEException,
    VapidException,
    ValueError,
    TypeError,
    binascii.Error,
)


def load_vapid_key(value: str) -> Vapid:
    """The VAPID key from a PEM (newlines may be written `\\n`) or a base64url raw/DER key."""
    text = value.strip().replace("\\n", "\n")
    if "-----BEGIN" in text:
        return Vapid.from_pem(text.encode())
    return Vapid.from_string(text)


def classify(response: httpx.Response) -> PushResult:
    """A push service's answer: 404/410 mean the subscription is gone."""
    if response.is_success:
        return PushResult("sent", response.status_code)
    error = response_error(response)
    if response.status_code in (404, 410):
        return PushResult("invalid_token", response.status_code, error[:1000])
    if is_transient(response.status_code):
        return transient(response, error)
    return PushResult.failed(error, response.status_code)


def payload(message: PushMessage) -> bytes:
    """The JSON the service worker receives once the browser has decrypted it."""
    return json.dumps(
        {
            "notification_id": str(message.notification_id),
            "kind": message.kind,
            "title": message.title,
            "body": message.body,
            "deep_link": message.deep_link,
            "data": message.data,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


class WebPushSender:
    """Sends to Web Push subscriptions (the device token is the subscription's endpoint)."""

    platform = "webpush"
    http2_only = False

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._vapid: Vapid | None = None

    def configuration_error(self) -> str | None:
        """Why this provider cannot send, or None when it is configured."""
        if not self._settings.vapid_private_key or not self._settings.vapid_subject:
            return (
                "Web Push is not configured: set OUTFIELD_VAPID_PRIVATE_KEY and "
                "OUTFIELD_VAPID_SUBJECT"
            )
        if self._vapid is None:
            try:
                self._vapid = load_vapid_key(self._settings.vapid_private_key)
            except CRYPTO_ERRORS as exc:
                return f"VAPID private key unusable: {type(exc).__name__}: {exc}"
        return None

    def vapid_headers(self, endpoint: str) -> dict[str, str]:
        """`Authorization: vapid t=<ES256 JWT>,k=<public key>` for the endpoint's origin."""
        assert self._vapid is not None
        parts = urlsplit(endpoint)
        claims = {
            "aud": f"{parts.scheme}://{parts.netloc}",
            "sub": self._settings.vapid_subject,
            "exp": int((now() + VAPID_LIFETIME).timestamp()),
        }
        # py_vapid is untyped; `sign` returns the header dict.
        headers: dict[str, str] = self._vapid.sign(claims)
        return headers

    async def send(
        self, http: httpx.AsyncClient, target: PushTarget, message: PushMessage
    ) -> PushResult:
        """One encrypted POST to the subscription's endpoint."""
        problem = self.configuration_error()
        if problem:
            return PushResult.failed(problem)
        subscription = {"endpoint": target.token, "keys": dict(target.keys)}
        try:
            body = WebPusher(subscription).encode(payload(message), CONTENT_ENCODING)["body"]
            headers = {
                **self.vapid_headers(target.token),
                "Content-Encoding": CONTENT_ENCODING,
                "Content-Type": "application/octet-stream",
                "TTL": str(TTL_S),
                "Urgency": "normal",
            }
        except CRYPTO_ERRORS as exc:
            return PushResult.failed(f"Web Push encryption failed: {type(exc).__name__}: {exc}")
        try:
            response = await http.post(target.token, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return network_error(exc)
        return classify(response)
