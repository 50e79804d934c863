"""“I am here, who else is near?” — visible customers nearest first."""

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.customers.access import customer_visibility
from app.customers.models import Customer


async def nearby_customers(
    session: AsyncSession,
    principal: Principal,
    latitude: float,
    longitude: float,
    radius_m: float,
    limit: int,
) -> list[Any]:
    """Visible customers within `radius_m`, nearest first (KNN `<->` on the GiST index)."""
    point = func.Geography(func.ST_SetSRID(func.ST_MakePoint(longitude, latitude), 4326))
    distance = func.ST_Distance(Customer.location, point).label("distance_m")
    stmt = (
        select(
            Customer.id,
            Customer.name,
            Customer.address,
            Customer.phone,
            Customer.latitude,
            Customer.longitude,
            Customer.owner_id,
            distance,
        )
        .where(customer_visibility(principal), func.ST_DWithin(Customer.location, point, radius_m))
        .order_by(Customer.location.op("<->")(point))
        .limit(limit)
    )
    return list((await session.execute(stmt)).all())
