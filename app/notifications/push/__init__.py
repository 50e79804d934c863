"""Push providers (FCM HTTP v1, APNs over HTTP/2, Web Push) behind one `send`.

`providers()` keeps one set of senders per settings object, so FCM access tokens and APNs
provider tokens are reused across job runs. `Providers.connect()` opens the HTTP clients of
one run: a general one and an HTTP/2-only one for APNs.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

import httpx

from app.config import Settings
from app.notifications.push.apns import ApnsSender
from app.notifications.push.common import PushMessage, PushResult, PushTarget, http_client
from app.notifications.push.fcm import FcmSender
from app.notifications.push.webpush import WebPushSender

log = logging.getLogger("outfield.push")


class Sender(Protocol):
    platform: str
    http2_only: bool

    async def send(
        self, http: httpx.AsyncClient, target: PushTarget, message: PushMessage
    ) -> PushResult: ...


@dataclass(frozen=True)
class Connection:
    """The HTTP clients of one push run."""

    general: httpx.AsyncClient
    http2_only: httpx.AsyncClient


class Providers:
    """The senders of every platform, configured from one settings object."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        senders: list[Sender] = [FcmSender(settings), ApnsSender(settings), WebPushSender(settings)]
        self.senders = {sender.platform: sender for sender in senders}

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[Connection]:
        """Open the run's HTTP clients; they are closed when the run ends."""
        async with (
            http_client(self.settings) as general,
            http_client(self.settings, http2_only=True) as http2_only,
        ):
            yield Connection(general, http2_only)

    async def send(
        self, connection: Connection, target: PushTarget, message: PushMessage
    ) -> PushResult:
        """One attempt at one device; never raises (a bug becomes a `failed` attempt)."""
        sender = self.senders.get(target.platform)
        if sender is None:
            return PushResult.failed(f"No push provider for platform {target.platform!r}")
        try:
            http = connection.http2_only if sender.http2_only else connection.general
            return await sender.send(http, target, message)
        except Exception as exc:  # noqa: BLE001 - one bad device must not stop the run
            log.exception("push to %s device %s failed", target.platform, target.device_id)
            return PushResult.failed(f"{type(exc).__name__}: {exc}")


_cached: tuple[Settings, Providers] | None = None


def providers(settings: Settings) -> Providers:
    """The senders for these settings (kept while the settings object is the same)."""
    global _cached
    if _cached is None or _cached[0] is not settings:
        _cached = (settings, Providers(settings))
    return _cached[1]


__all__ = ["Connection", "Providers", "PushMessage", "PushResult", "PushTarget", "providers"]
