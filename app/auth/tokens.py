"""JWT access tokens (PyJWT, HS256) and opaque, HMAC-derived refresh tokens."""

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime

import jwt

from app.config import get_settings
from app.core.clock import now

ALGORITHM = "HS256"


@dataclass(frozen=True)
class AccessClaims:
    """What an access token says about its bearer."""

    user_id: uuid.UUID
    company_id: uuid.UUID
    token_version: int
    # The token's own id and expiry (Unix seconds): sign-out denies this one token until then.
    jti: uuid.UUID
    expires_at: int


def encode_access_token(
    user_id: uuid.UUID,
    company_id: uuid.UUID,
    token_version: int,
    issued_at: datetime,
    jti: uuid.UUID,
) -> str:
    """A signed access token; the same inputs give the same token (grace retries rely on it)."""
    settings = get_settings()
    issued = int(issued_at.timestamp())
    claims = {
        "sub": str(user_id),
        "cid": str(company_id),
        "ver": token_version,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": issued,
        "nbf": issued,
        "exp": issued + settings.access_token_ttl_s,
        "jti": str(jti),
    }
    return jwt.encode(claims, settings.secret_key, algorithm=ALGORITHM)


def decode_access_token(token: str, at: datetime) -> AccessClaims:
    """Verify signature, algorithm, `exp`, `iss`, `aud`; raise jwt.InvalidTokenError otherwise."""
    settings = get_settings()
    # PyJWT validates exp/nbf against the wall clock; we check them against the one clock.
    payload = jwt.decode(
        token,
        settings.secret_key,
        algorithms=[ALGORITHM],
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
        options={
            "require": ["exp", "iat", "iss", "aud", "sub", "jti"],
            "verify_exp": False,
            "verify_nbf": False,
            "verify_iat": False,
        },
    )
    timestamp = at.timestamp()
    if payload["exp"] <= timestamp:
        raise jwt.ExpiredSignatureError("token expired")
    if payload.get("nbf", 0) > timestamp + 60:
        raise jwt.ImmatureSignatureError("token not yet valid")
    try:
        return AccessClaims(
            uuid.UUID(payload["sub"]),
            uuid.UUID(payload["cid"]),
            int(payload["ver"]),
            uuid.UUID(payload["jti"]),
            int(payload["exp"]),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise jwt.InvalidTokenError("malformed claims") from exc


def _refresh_signature(token_id: uuid.UUID) -> str:
    key = get_settings().secret_key.encode()
    digest = hmac.new(key, b"refresh:" + token_id.bytes, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def encode_refresh_token(token_id: uuid.UUID) -> str:
    """The opaque refresh token for a stored refresh-token row (derivable again by the server)."""
    return f"{token_id.hex}.{_refresh_signature(token_id)}"


def parse_refresh_token(token: str) -> uuid.UUID | None:
    """The row id a refresh token names, or None when it is forged or malformed."""
    token_id_hex, _, signature = token.partition(".")
    try:
        token_id = uuid.UUID(hex=token_id_hex)
    except ValueError:
        return None
    if not hmac.compare_digest(signature, _refresh_signature(token_id)):
        return None
    return token_id


def token_scope(token: str) -> str | None:
    """'company:user' of a well-signed, unexpired access token, None for any other (the
    idempotency middleware keys stored responses by it; the route itself answers the 401).
    Signature and expiry only: before answering from a stored response the middleware runs
    the full check of `app.auth.principal.check_bearer`."""
    try:
        claims = decode_access_token(token, now())
    except Exception:  # noqa: BLE001 - any invalid token
        return None
    return f"{claims.company_id}:{claims.user_id}"
