"""The webhook tests' local receiver and shortcuts: signature check, enqueue, deliver."""

import hashlib
import hmac
import os
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import select

from app.config import get_settings
from app.db import session_factory
from app.notifications.models import WebhookDelivery
from app.notifications.webhooks import service as webhooks
from workers.jobs import webhooks as delivery_job


def verify(secret: str, headers: dict[str, str], body: bytes, at: float) -> bool:
    """The README's receiver check: fresh timestamp and a matching v1 signature."""
    timestamp = headers["outfield-timestamp"]
    if abs(at - int(timestamp)) > 300:
        return False
    signed = f"{timestamp}.".encode() + body
    expected = "v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["outfield-signature"])


class Receiver:
    """A real HTTP server on 127.0.0.1 that records every request and answers as told."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.plans: dict[str, list[int]] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.requests.append(
                        {
                            "path": self.path,
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                            "body": body,
                        }
                    )
                    plan = receiver.plans.get(self.path)
                    status = plan.pop(0) if plan else 200
                if self.path == "/redirect":
                    status = 302
                self.send_response(status)
                if status == 302:
                    self.send_header("Location", f"{receiver.base}/landing")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def at(self, path: str) -> list[dict]:
        with self.lock:
            return [request for request in self.requests if request["path"] == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def configure(**env: str) -> None:
    """Change webhook settings for the rest of the test."""
    os.environ.update(env)
    get_settings.cache_clear()


async def create_webhook(http, company, url: str, event_types=("followup.created",), **extra):
    response = await http.post(
        "/v1/webhooks",
        json={"url": url, "event_types": list(event_types), **extra},
        headers=company.admin,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def enqueue(company_id: str, event_type: str, subject: dict) -> int:
    async with session_factory()() as session:
        inserted = await webhooks.enqueue_event(session, uuid.UUID(company_id), event_type, subject)
        await session.commit()
    return inserted


async def deliver() -> dict[str, int]:
    counts: dict[str, int] = {}
    await delivery_job.deliver_pending_webhooks(counts)
    return counts


async def deliveries_of(webhook_id: str) -> list[WebhookDelivery]:
    async with session_factory()() as session:
        return list(
            (
                await session.execute(
                    select(WebhookDelivery)
                    .where(WebhookDelivery.webhook_id == uuid.UUID(webhook_id))
                    .order_by(WebhookDelivery.created_at)
                )
            ).scalars()
        )
