"""Push devices: register, list and unregister the caller's push tokens.

A (platform, token) pair belongs to one user: registering a token another user had moves it
to the caller (a shared or handed-down phone), and registering one's own token again
reactivates it.
"""

import base64
import binascii
import fnmatch
import re
import uuid
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.config import get_settings
from app.core.clock import now
from app.core.errors import not_found
from app.core.pagination import PageParams, make_page, paginate
from app.db import rowcount
from app.notifications import errors
from app.notifications.devices.schemas import DeviceIn
from app.notifications.models import Device

APNS_TOKEN = re.compile(r"[0-9a-fA-F]{64,200}")
FCM_TOKEN = re.compile(r"[A-Za-z0-9_:.\-]{16,4096}")
P256_POINT_BYTES = 65
AUTH_SECRET_BYTES = 16


def _base64url_bytes(value: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None


def _host_allowed(host: str, patterns: str) -> bool:
    return any(
        fnmatch.fnmatchcase(host, pattern.strip().lower())
        for pattern in patterns.split(",")
        if pattern.strip()
    )


def _check_endpoint(endpoint: str) -> None:
    """A Web Push endpoint must be a URL of a known push service (the worker POSTs to it)."""
    settings = get_settings()
    parts = urlsplit(endpoint)
    schemes = ("https",) if settings.is_production else ("https", "http")
    if parts.scheme not in schemes or not parts.hostname:
        raise errors.invalid_push_token("A Web Push token is the https endpoint.")
    if not _host_allowed(parts.hostname.lower(), settings.webpush_endpoint_hosts):
        raise errors.invalid_push_token(
            f"{parts.hostname} is not a known push service (OUTFIELD_WEBPUSH_ENDPOINT_HOSTS).",
        )


def validated_keys(data: DeviceIn) -> dict[str, Any]:
    """The token checked for its platform and the keys to store; 422 when they do not fit."""
    if data.platform != "webpush":
        if data.keys is not None:
            raise errors.invalid_push_keys("Only webpush devices have keys.")
        pattern = APNS_TOKEN if data.platform == "apns" else FCM_TOKEN
        if not pattern.fullmatch(data.token):
            raise errors.invalid_push_token(f"This is not an {data.platform} device token.")
        return {}
    _check_endpoint(data.token)
    if data.keys is None:
        raise errors.invalid_push_keys("A webpush device needs keys.p256dh and auth.")
    point = _base64url_bytes(data.keys.p256dh)
    if point is None or len(point) != P256_POINT_BYTES or point[0] != 4:
        raise errors.invalid_push_keys("keys.p256dh is not a P-256 public key.")
    secret = _base64url_bytes(data.keys.auth)
    if secret is None or len(secret) != AUTH_SECRET_BYTES:
        raise errors.invalid_push_keys("keys.auth is not a 16-byte secret.")
    return {"p256dh": data.keys.p256dh, "auth": data.keys.auth}


async def register_device(
    session: AsyncSession, principal: Principal, data: DeviceIn
) -> tuple[Device, bool]:
    """Register a push token for the caller: (device, created); known tokens are reactivated."""
    keys = validated_keys(data)
    prior = (
        await session.execute(
            select(Device.id, Device.user_id, Device.company_id, Device.device_name).where(
                Device.platform == data.platform, Device.token == data.token
            )
        )
    ).first()
    prior_owner = prior.user_id if prior is not None else None
    device_name = data.device_name
    if prior is not None and prior.company_id != principal.company_id:
        # A row never changes company (tenant keys, 0009; nor can a sharded row): the old
        # company's device goes, with its push attempts, and comes back under the caller's.
        await session.execute(delete(Device).where(Device.id == prior.id))
        device_name = device_name or prior.device_name
    at = now()
    registration = insert(Device).values(
        id=prior.id if prior is not None else uuid.uuid4(),
        company_id=principal.company_id,
        user_id=principal.user_id,
        platform=data.platform,
        token=data.token,
        keys=keys,
        device_name=device_name,
        active=True,
        created_at=at,
        updated_at=at,
    )
    # One statement, so two registrations of the same token at once cannot both insert.
    stmt = registration.on_conflict_do_update(
        index_elements=[Device.platform, Device.token],
        set_={
            "company_id": registration.excluded.company_id,
            "user_id": registration.excluded.user_id,
            "keys": registration.excluded["keys"],
            "device_name": func.coalesce(registration.excluded.device_name, Device.device_name),
            "active": True,
            "deactivated_reason": None,
            "updated_at": at,
        },
    ).returning(Device)
    device = (await session.scalars(stmt, execution_options={"populate_existing": True})).one()
    return device, prior_owner != principal.user_id


async def list_devices(
    session: AsyncSession, principal: Principal, params: PageParams
) -> tuple[list[Device], str | None]:
    """The caller's devices, active or not, newest first."""
    stmt = select(Device).where(
        Device.user_id == principal.user_id, Device.company_id == principal.company_id
    )
    rows = list((await session.scalars(paginate(stmt, Device.created_at, Device.id, params))).all())
    return make_page(rows, params)


async def delete_device(session: AsyncSession, principal: Principal, device_id: uuid.UUID) -> None:
    """Unregister one of the caller's devices; anyone else's is a 404."""
    result = await session.execute(
        delete(Device).where(
            Device.id == device_id,
            Device.user_id == principal.user_id,
            Device.company_id == principal.company_id,
        )
    )
    if rowcount(result) == 0:
        raise not_found("device")
