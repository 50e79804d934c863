"""Query parameters of customer lists, parsed once for /customers and /pool/customers."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Literal

from fastapi import Query
from pydantic import StringConstraints

from app.core.errors import ProblemError, validation_failed
from app.core.geo import CRS, to_wgs84
from app.core.types import FilterTimestamp
from app.customers.schemas import Status, Tier

MAX_RADIUS_M = 50_000
# The forms the filters take, declared in the OpenAPI document and enforced by FastAPI.
UUID_PATTERN = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
OWNER_PATTERN = f"^(me|{UUID_PATTERN})$"
# `lat,lng` in degrees, the ranges included (-90..90, -180..180; up to three integer digits).
_LAT = r"-?((0{0,2}[0-9]|0?[1-8][0-9])(\.[0-9]+)?|0?90(\.0+)?)"
_LNG = r"-?((0{0,2}[0-9]|0?[1-9][0-9]|1[0-7][0-9])(\.[0-9]+)?|180(\.0+)?)"
NEAR_PATTERN = f"^{_LAT},{_LNG}$"
CUSTOM_FIELD_PATTERN = r"^[^:]+:[\s\S]*$"
CustomFieldFilter = Annotated[str, StringConstraints(pattern=CUSTOM_FIELD_PATTERN)]


@dataclass(frozen=True)
class CustomerFilters:
    """The filters of a customer list (`/customers`, `/pool/customers`), parsed and checked."""

    owner: Literal["me"] | uuid.UUID | None = None
    industry: str | None = None
    size: str | None = None
    tier: Tier | None = None
    status: Status | None = None
    region: str | None = None
    q: str | None = None
    tag: str | None = None
    custom: dict[str, str] = field(default_factory=dict)
    near: tuple[float, float, float] | None = None  # WGS-84 lat, lng and a radius in metres


@dataclass(frozen=True)
class PoolFilters:
    """The pool-only filters of `/pool/customers`."""

    pool_id: uuid.UUID | None = None
    previous_owner_id: uuid.UUID | None = None
    recycled_since: datetime | None = None


def _invalid(name: str, message: str) -> ProblemError:
    return validation_failed(message, loc=("query", name))


async def customer_filters(
    owner: str | None = Query(None, pattern=OWNER_PATTERN, description="`me` or a user id."),
    industry: str | None = Query(None, max_length=100),
    size: str | None = Query(None, max_length=50),
    tier: Tier | None = Query(None),
    status: Status | None = Query(None),
    region: str | None = Query(None, max_length=100),
    q: str | None = Query(None, max_length=100, description="Name contains."),
    tag: str | None = Query(None, max_length=50),
    cf: list[CustomFieldFilter] = Query(
        [],
        description="Custom field equals: `key:value` (repeatable).",
    ),
    near: str | None = Query(
        None, pattern=NEAR_PATTERN, description="`lat,lng` — only customers within radius_m."
    ),
    radius_m: float = Query(1000, gt=0, le=MAX_RADIUS_M),
    near_crs: CRS = Query(CRS.WGS84, description="CRS of `near`."),
) -> CustomerFilters:
    """Dependency: the shared customer list filters, validated."""
    owner_filter: Literal["me"] | uuid.UUID | None = None
    if owner is not None:
        if owner == "me":
            owner_filter = "me"
        else:
            try:
                owner_filter = uuid.UUID(owner)
            except ValueError as exc:
                raise _invalid("owner", "owner is `me` or a user id") from exc
    custom: dict[str, str] = {}
    for item in cf:
        key, separator, value = item.partition(":")
        if not separator or not key:
            raise _invalid("cf", "custom field filters look like key:value")
        custom[key] = value
    point: tuple[float, float, float] | None = None
    if near is not None:
        try:
            lat_text, lng_text = near.split(",")
            lat, lng = float(lat_text), float(lng_text)
            if not (-90 <= lat <= 90 and -180 <= lng <= 180):
                raise ValueError
        except ValueError as exc:
            raise _invalid("near", "near is `lat,lng` in degrees") from exc
        lat, lng = to_wgs84(lat, lng, near_crs)
        point = (lat, lng, radius_m)
    return CustomerFilters(
        owner=owner_filter,
        industry=industry,
        size=size,
        tier=tier,
        status=status,
        region=region,
        q=q,
        tag=tag,
        custom=custom,
        near=point,
    )


async def pool_filters(
    pool_id: uuid.UUID | None = Query(None),
    previous_owner: uuid.UUID | None = Query(None),
    recycled_since: FilterTimestamp | None = Query(
        None, description="Recycled (not released) since."
    ),
) -> PoolFilters:
    """Dependency: the pool-only filters."""
    if recycled_since is not None and recycled_since.tzinfo is None:
        raise _invalid("recycled_since", "give a time zone (e.g. Z)")
    return PoolFilters(
        pool_id=pool_id, previous_owner_id=previous_owner, recycled_since=recycled_since
    )
