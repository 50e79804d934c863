"""FCM HTTP v1: an OAuth2 access token from a service account, then `messages:send`.

The access token comes from the OAuth2 JWT-bearer grant (RFC 7523): an RS256 assertion
signed with the service account's key, posted to its `token_uri`; it is kept until shortly
before it expires.
"""

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

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

FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME = timedelta(hours=1)
# Refresh this long before the access token's own expiry so no send races the deadline.
REFRESH_MARGIN = timedelta(minutes=5)
INVALID_TOKEN_CODES = {"UNREGISTERED", "SENDER_ID_MISMATCH"}
# FCM rejects a whole message whose data uses one of its own keys.
RESERVED_DATA_KEYS = {"from", "notification", "message_type", "collapse_key"}
RESERVED_DATA_PREFIXES = ("google", "gcm")


@dataclass(frozen=True)
class ServiceAccount:
    """The parts of a Google service-account JSON the grant needs."""

    client_email: str
    private_key: str
    private_key_id: str | None
    token_uri: str


class ProviderRefused(Exception):
    """The provider (or its token endpoint) answered with something other than success."""

    def __init__(self, result: PushResult) -> None:
        super().__init__(result.error)
        self.result = result


def load_service_account(value: str, token_uri: str | None = None) -> ServiceAccount:
    """Parse a service-account JSON given inline or as a file path."""
    text = value if value.lstrip().startswith("{") else Path(value).read_text(encoding="utf-8")
    info: dict[str, Any] = json.loads(text)
    return ServiceAccount(
        client_email=info["client_email"],
        private_key=info["private_key"],
        private_key_id=info.get("private_key_id"),
        token_uri=token_uri or info.get("token_uri") or "https://oauth2.googleapis.com/token",
    )


def _fcm_error(response: httpx.Response) -> tuple[str, str, str, list[str]]:
    """(status, FCM errorCode, message, violated fields) of an FCM error answer."""
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        return "", "", "", []
    code, fields = "", []
    for detail in error.get("details") or []:
        code = detail.get("errorCode") or code
        fields += [v.get("field", "") for v in detail.get("fieldViolations") or []]
    return error.get("status", ""), code, error.get("message", ""), fields


def fcm_data(message: PushMessage) -> dict[str, str]:
    """The message's data as FCM takes it: string values, none of FCM's reserved keys."""
    return {
        key: value
        for key, value in message.string_data().items()
        if key not in RESERVED_DATA_KEYS and not key.lower().startswith(RESERVED_DATA_PREFIXES)
    }


def classify(response: httpx.Response) -> PushResult:
    """An FCM answer as an outcome: a dead registration token is `invalid_token`."""
    if response.is_success:
        return PushResult("sent", response.status_code)
    status, code, message, fields = _fcm_error(response)
    error = response_error(response)
    if response.status_code == 404 or code in INVALID_TOKEN_CODES:
        return PushResult("invalid_token", response.status_code, error[:1000])
    about_token = "message.token" in fields or "registration token" in message.lower()
    if status == "INVALID_ARGUMENT" and about_token:
        return PushResult("invalid_token", response.status_code, error[:1000])
    if is_transient(response.status_code):
        return transient(response, error)
    return PushResult.failed(error, response.status_code)


class FcmSender:
    """Sends to FCM registration tokens; one instance per settings, keeping the access token."""

    platform = "fcm"
    http2_only = False

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._account: ServiceAccount | None = None
        self._access_token: str | None = None
        self._expires_at: datetime | None = None
        self._lock = asyncio.Lock()

    def configuration_error(self) -> str | None:
        """Why this provider cannot send, or None when it is configured."""
        if not self._settings.fcm_project_id or not self._settings.fcm_service_account:
            return (
                "FCM is not configured: set OUTFIELD_FCM_PROJECT_ID and "
                "OUTFIELD_FCM_SERVICE_ACCOUNT"
            )
        if self._account is None:
            try:
                self._account = load_service_account(
                    self._settings.fcm_service_account, self._settings.fcm_token_uri
                )
            except (OSError, ValueError, KeyError, TypeError) as exc:
                return f"FCM service account unreadable: {type(exc).__name__}: {exc}"
        return None

    def _assertion(self, account: ServiceAccount) -> str:
        issued = int(now().timestamp())
        claims = {
            "iss": account.client_email,
            "scope": FCM_SCOPE,
            "aud": account.token_uri,
            "iat": issued,
            "exp": issued + int(ASSERTION_LIFETIME.total_seconds()),
        }
        headers = {"kid": account.private_key_id} if account.private_key_id else None
        return jwt.encode(claims, account.private_key, algorithm="RS256", headers=headers)

    async def _fetch_token(self, http: httpx.AsyncClient, account: ServiceAccount) -> None:
        try:
            response = await http.post(
                account.token_uri,
                data={"grant_type": JWT_BEARER_GRANT, "assertion": self._assertion(account)},
            )
        except httpx.HTTPError as exc:
            raise ProviderRefused(network_error(exc)) from exc
        if not response.is_success:
            error = "FCM token endpoint: " + response_error(response)
            if is_transient(response.status_code):
                raise ProviderRefused(transient(response, error))
            raise ProviderRefused(PushResult.failed(error, response.status_code))
        grant = response.json()
        self._access_token = grant["access_token"]
        self._expires_at = now() + timedelta(seconds=int(grant.get("expires_in", 3600)))

    async def access_token(self, http: httpx.AsyncClient, *, renew: bool = False) -> str:
        """A valid OAuth2 access token, fetched once and reused until shortly before expiry."""
        async with self._lock:
            fresh = self._expires_at is not None and now() < self._expires_at - REFRESH_MARGIN
            if renew or not fresh or self._access_token is None:
                assert self._account is not None
                await self._fetch_token(http, self._account)
            assert self._access_token is not None
            return self._access_token

    async def send(
        self, http: httpx.AsyncClient, target: PushTarget, message: PushMessage
    ) -> PushResult:
        """One `messages:send` to one registration token."""
        problem = self.configuration_error()
        if problem:
            return PushResult.failed(problem)
        url = (
            f"{self._settings.fcm_base_url.rstrip('/')}"
            f"/v1/projects/{self._settings.fcm_project_id}/messages:send"
        )
        body = {
            "message": {
                "token": target.token,
                "notification": {"title": message.title, "body": message.body},
                "data": fcm_data(message),
            }
        }
        try:
            token = await self.access_token(http)
            response = await http.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
            if response.status_code == 401:
                # A revoked or rotated access token: get a new one and try once more now.
                token = await self.access_token(http, renew=True)
                response = await http.post(
                    url, json=body, headers={"Authorization": f"Bearer {token}"}
                )
        except ProviderRefused as refused:
            return refused.result
        except httpx.HTTPError as exc:
            return network_error(exc)
        return classify(response)
