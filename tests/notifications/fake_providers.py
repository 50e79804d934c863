"""Real local stand-ins for FCM, APNs and a Web Push service, served by hypercorn.

Each checks what the real provider checks — the OAuth2 assertion and bearer token (FCM),
the ES256 provider token, topic, push type and HTTP/2 (APNs), the VAPID signature, the
encryption headers and that the body decrypts for the subscription (Web Push) — answers a
failed check the way the provider would, and records every request. Times are judged by the
app's clock, as if the provider's clock agreed with ours.
"""

import asyncio
import base64
import datetime as dt
import ipaddress
import json
import os
import secrets
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import http_ece
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from hypercorn.asyncio import serve
from hypercorn.config import Config
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.core import clock

FCM_PROJECT = "outfield-test"
APNS_KEY_ID = "ABC123DEFG"
APNS_TEAM_ID = "TEAM987654"
APNS_TOPIC = "dev.outfield.app"
VAPID_SUBJECT = "mailto:push@outfield.test"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def pem(key: Any) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def point(public_key: ec.EllipticCurvePublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (which the client is told to trust) and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_text(pem(key))
    return cert_path, key_path


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any
    http_version: str


@dataclass
class Fake:
    """Requests received, failed checks, and scripted answers per device token / endpoint."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    scripts: dict[str, list[tuple[int, dict, dict]]] = field(default_factory=dict)

    def script(self, key: str, *answers: tuple[int, dict, dict]) -> None:
        """The next answers (status, JSON body, headers) for this token, then success."""
        self.scripts.setdefault(key, []).extend(answers)

    def scripted(self, key: str) -> Response | None:
        if self.scripts.get(key):
            status, body, headers = self.scripts[key].pop(0)
            return JSONResponse(body, status_code=status, headers=headers)
        return None

    def refuse(self, status: int, problem: str, body: dict) -> Response:
        self.problems.append(problem)
        return JSONResponse(body, status_code=status)

    def reset(self) -> None:
        self.received.clear()
        self.problems.clear()
        self.scripts.clear()


def fresh(claims: dict, max_age_s: int) -> bool:
    """Issued no later than now (+1 min skew) and no longer ago than max_age_s."""
    at = clock.now().timestamp()
    return at - max_age_s <= int(claims["iat"]) <= at + 60


class FakeFcm(Fake):
    """OAuth2 token endpoint + FCM HTTP v1 `messages:send`."""

    def __init__(self) -> None:
        super().__init__()
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.client_email = f"push@{FCM_PROJECT}.iam.gserviceaccount.com"
        self.tokens: set[str] = set()
        self.token_requests = 0
        self.app = Starlette(
            routes=[
                Route("/token", self.token, methods=["POST"]),
                Route("/v1/projects/{project}/messages:send", self.send, methods=["POST"]),
            ]
        )

    def reset(self) -> None:
        super().reset()
        self.token_requests = 0

    def service_account(self, token_uri: str) -> dict[str, str]:
        return {
            "type": "service_account",
            "project_id": FCM_PROJECT,
            "private_key_id": "key-1",
            "private_key": pem(self.key),
            "client_email": self.client_email,
            "token_uri": token_uri,
        }

    async def token(self, request: Request) -> Response:
        self.token_requests += 1
        form = await request.form()
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return self.refuse(400, "grant_type", {"error": "unsupported_grant_type"})
        assertion = str(form.get("assertion", ""))
        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(
                assertion,
                self.key.public_key(),
                algorithms=["RS256"],
                audience=f"{self.url}/token",
                options={"verify_exp": False, "verify_iat": False},
            )
        except jwt.InvalidTokenError as exc:
            return self.refuse(400, f"assertion: {exc}", {"error": "invalid_grant"})
        valid = (
            header.get("kid") == "key-1"
            and claims.get("iss") == self.client_email
            and "https://www.googleapis.com/auth/firebase.messaging" in claims.get("scope", "")
            and fresh(claims, 300)
            and 0 < claims["exp"] - claims["iat"] <= 3600
        )
        if not valid:
            return self.refuse(
                400, f"assertion claims {header} {claims}", {"error": "invalid_grant"}
            )
        token = secrets.token_urlsafe(24)
        self.tokens.add(token)
        return JSONResponse({"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    async def send(self, request: Request) -> Response:
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        if bearer not in self.tokens:
            return self.refuse(401, "bearer", {"error": {"code": 401, "status": "UNAUTHENTICATED"}})
        body = await request.json()
        self.received.append(Received(request.url.path, dict(request.headers), body, "1.1"))
        message = body.get("message", {})
        notification = message.get("notification", {})
        shaped = (
            request.path_params["project"] == FCM_PROJECT
            and isinstance(message.get("token"), str)
            and isinstance(notification.get("title"), str)
            and isinstance(notification.get("body"), str)
            and all(isinstance(v, str) for v in message.get("data", {}).values())
        )
        if not shaped:
            error = {"code": 400, "status": "INVALID_ARGUMENT", "message": "Invalid message"}
            return self.refuse(400, f"shape {body}", {"error": error})
        answer = self.scripted(message["token"])
        return answer or JSONResponse({"name": f"projects/{FCM_PROJECT}/messages/1"})


class FakeApns(Fake):
    """APNs `POST /3/device/{token}`, HTTP/2 only, token-based provider authentication."""

    def __init__(self) -> None:
        super().__init__()
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.app = Starlette(routes=[Route("/3/device/{token}", self.send, methods=["POST"])])

    async def send(self, request: Request) -> Response:
        version = request.scope["http_version"]
        body = json.loads(await request.body() or b"{}")
        self.received.append(Received(request.url.path, dict(request.headers), body, version))
        if version != "2":
            return self.refuse(505, f"HTTP/{version}", {"reason": "HTTP/2 required"})
        authorization = request.headers.get("authorization", "")
        try:
            provider_token = authorization.removeprefix("bearer ")
            header = jwt.get_unverified_header(provider_token)
            claims = jwt.decode(
                provider_token,
                self.key.public_key(),
                algorithms=["ES256"],
                options={"verify_iat": False},
            )
        except jwt.InvalidTokenError as exc:
            return self.refuse(403, f"jwt: {exc}", {"reason": "InvalidProviderToken"})
        if header.get("kid") != APNS_KEY_ID or claims.get("iss") != APNS_TEAM_ID:
            return self.refuse(403, f"jwt {header} {claims}", {"reason": "InvalidProviderToken"})
        if not fresh(claims, 3600):
            return self.refuse(403, "jwt age", {"reason": "ExpiredProviderToken"})
        if request.headers.get("apns-topic") != APNS_TOPIC:
            return self.refuse(400, "topic", {"reason": "TopicDisallowed"})
        if request.headers.get("apns-push-type") != "alert":
            return self.refuse(400, "push type", {"reason": "InvalidPushType"})
        if request.headers.get("apns-priority") not in ("5", "10"):
            return self.refuse(400, "priority", {"reason": "BadPriority"})
        alert = body.get("aps", {}).get("alert", {})
        if not isinstance(alert.get("title"), str) or not isinstance(alert.get("body"), str):
            return self.refuse(400, f"payload {body}", {"reason": "PayloadEmpty"})
        answer = self.scripted(request.path_params["token"])
        return answer or Response(status_code=200, headers={"apns-id": secrets.token_hex(16)})


class FakeWebPush(Fake):
    """A push service endpoint per subscription: VAPID, aes128gcm, TTL, decryptable body."""

    def __init__(self) -> None:
        super().__init__()
        self.vapid_key = ec.generate_private_key(ec.SECP256R1())
        self.subscriptions: dict[str, tuple[ec.EllipticCurvePrivateKey, bytes]] = {}
        self.app = Starlette(routes=[Route("/push/{sub}", self.send, methods=["POST"])])

    def subscribe(self) -> dict[str, Any]:
        """A browser's PushSubscription: a fresh P-256 key pair and auth secret."""
        key, auth, sub = (
            ec.generate_private_key(ec.SECP256R1()),
            os.urandom(16),
            secrets.token_hex(8),
        )
        self.subscriptions[sub] = (key, auth)
        return {
            "endpoint": f"{self.url}/push/{sub}",
            "keys": {"p256dh": b64url(point(key.public_key())), "auth": b64url(auth)},
        }

    def verify_vapid(self, authorization: str) -> str | None:
        """None when the header is a valid RFC 8292 `vapid t=…,k=…` for this origin."""
        scheme, _, params = authorization.partition(" ")
        parts = dict(p.strip().split("=", 1) for p in params.split(",") if "=" in p)
        if scheme.lower() != "vapid" or {"t", "k"} - parts.keys():
            return f"scheme {authorization}"
        if parts["k"] != b64url(point(self.vapid_key.public_key())):
            return "k is not the application server's key"
        try:
            claims = jwt.decode(
                parts["t"],
                self.vapid_key.public_key(),
                algorithms=["ES256"],
                audience=self.url,
                options={"verify_exp": False, "require": ["exp", "aud", "sub"]},
            )
        except jwt.InvalidTokenError as exc:
            return f"jwt: {exc}"
        at = clock.now().timestamp()
        if not at < claims["exp"] <= at + 24 * 3600:
            return f"exp {claims['exp']}"
        if not str(claims["sub"]).startswith("mailto:"):
            return f"sub {claims['sub']}"
        return None

    async def send(self, request: Request) -> Response:
        raw = await request.body()
        sub = request.path_params["sub"]
        problem = self.verify_vapid(request.headers.get("authorization", ""))
        if problem:
            return self.refuse(403, problem, {})
        if request.headers.get("content-encoding") != "aes128gcm":
            return self.refuse(400, "content-encoding", {})
        if not request.headers.get("ttl", "").isdigit():
            return self.refuse(400, "ttl", {})
        if sub not in self.subscriptions:
            return self.refuse(404, "unknown subscription", {})
        key, auth = self.subscriptions[sub]
        try:
            plain = http_ece.decrypt(raw, private_key=key, auth_secret=auth, version="aes128gcm")
        except Exception as exc:  # noqa: BLE001 - any failure means it did not decrypt
            return self.refuse(400, f"decrypt: {exc}", {})
        self.received.append(
            Received(request.url.path, dict(request.headers), json.loads(plain), "1.1")
        )
        return self.scripted(sub) or Response(status_code=201, headers={"location": "/m/1"})


class Server:
    """Serve an ASGI app with hypercorn on a free 127.0.0.1 port, in this event loop."""

    def __init__(self, app: Any, tls: tuple[Path, Path] | None = None) -> None:
        self.app, self.tls = app, tls
        self.stop = asyncio.Event()
        self.task: asyncio.Task | None = None
        self.url = ""

    async def start(self) -> str:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(100)
        port = sock.getsockname()[1]
        config = Config()
        config.bind = [f"fd://{sock.detach()}"]  # hypercorn owns (and closes) the socket
        config.errorlog = None
        if self.tls:
            config.certfile, config.keyfile = (str(path) for path in self.tls)
        self.task = asyncio.create_task(serve(self.app, config, shutdown_trigger=self.stop.wait))
        self.url = f"{'https' if self.tls else 'http'}://127.0.0.1:{port}"
        return self.url

    async def close(self) -> None:
        self.stop.set()
        if self.task:
            await self.task
