"""The customer map: how many visible customers sit in each hexagon of a box (a density map),
and of which owner, tier, industry or pool.

The cells are those of PostGIS's `ST_HexagonGrid` in EPSG:3857 (web Mercator), anchored at the
origin: flat-topped hexagons with edge `size`, cell (i, j) centred at (1.5·size·i,
√3·size·j + (i odd: √3/2·size)). A point's cell is the nearest centre among the two columns
around it, computed in SQL from its Mercator coordinates (one index scan of the box, no join
against a generated grid) — the same cell `ST_HexagonGrid` would put it in. `size` is `cell_m`
at the box's centre latitude (Mercator metres are 1/cos(lat) ground metres there).

The box is read from `ix_customers_map` alone (btree on company, longitude, latitude and the
Mercator y, with the visibility and grouping columns included; no heap visits): a city of
~175k customers is one index-only range scan, not a GiST bitmap over ~65k heap pages.
"""

import math
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Float, Integer, String, case, cast, func, literal, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.errors import validation_failed
from app.core.geo import EARTH_RADIUS_M
from app.coverage import errors as coverage_errors
from app.customers.access import customer_visibility
from app.customers.models import Customer, Pool
from app.org.models import User

Group = Literal["owner", "tier", "industry", "pool"]

MERCATOR_R = 6378137.0  # EPSG:3857's sphere
MAX_MERCATOR_LAT = 85.05112878
CELL_M_MIN = 100
CELL_M_MAX = 50_000
CELL_M_DEFAULT = 1_000
MAX_BBOX_KM2 = 250_000
"""The largest box (about 500 km × 500 km)."""
MAX_CELLS = 10_000
"""Hexagons a box may span at the asked size (smaller cells: a smaller box)."""
_SQRT3 = math.sqrt(3.0)


@dataclass(frozen=True)
class Box:
    min_lng: float
    min_lat: float
    max_lng: float
    max_lat: float

    @property
    def km2(self) -> float:
        """Its area on the sphere."""
        lam = math.radians(self.max_lng - self.min_lng)
        band = math.sin(math.radians(self.max_lat)) - math.sin(math.radians(self.min_lat))
        return EARTH_RADIUS_M**2 * lam * band / 1e6

    def as_list(self) -> list[float]:
        return [self.min_lng, self.min_lat, self.max_lng, self.max_lat]


def parse_bbox(text: str) -> Box:
    """`minLng,minLat,maxLng,maxLat` (WGS-84) → a Box; 422 at query.bbox when malformed."""
    try:
        values = [float(part) for part in text.split(",")]
        if len(values) != 4 or any(not math.isfinite(v) for v in values):
            raise ValueError("four numbers")
        box = Box(*values)
        if not (-180 <= box.min_lng < box.max_lng <= 180):
            raise ValueError("longitudes")
        if not (-MAX_MERCATOR_LAT <= box.min_lat < box.max_lat <= MAX_MERCATOR_LAT):
            raise ValueError("latitudes")
    except ValueError as exc:
        raise validation_failed(
            "`bbox` is `minLng,minLat,maxLng,maxLat` (WGS-84 degrees, min < max, latitudes "
            f"within ±{MAX_MERCATOR_LAT}, not across the antimeridian).",
            loc=("query", "bbox"),
        ) from exc
    return box


def hexagon_km2(cell_m: float) -> float:
    return 3 * _SQRT3 / 2 * cell_m**2 / 1e6


def max_km2(cell_m: int) -> int:
    """The largest box at this cell size."""
    return int(min(MAX_BBOX_KM2, MAX_CELLS * hexagon_km2(cell_m)))


def _to_lat_lng(x: float, y: float) -> tuple[float, float]:
    lng = math.degrees(x / MERCATOR_R)
    lat = math.degrees(2 * math.atan(math.exp(y / MERCATOR_R)) - math.pi / 2)
    return lat, lng


@dataclass(frozen=True)
class Grid:
    """The hexagons of `ST_HexagonGrid(size, …)` in EPSG:3857."""

    size: float

    @property
    def height(self) -> float:
        return _SQRT3 * self.size

    def centre(self, i: int, j: int) -> tuple[float, float]:
        offset = self.height / 2 if i % 2 else 0.0
        return 1.5 * self.size * i, self.height * j + offset

    def polygon(self, i: int, j: int) -> list[list[float]]:
        """The hexagon as a GeoJSON ring ([lng, lat], counter-clockwise, closed)."""
        x, y = self.centre(i, j)
        corners = [(-1, 0), (-0.5, -0.5), (0.5, -0.5), (1, 0), (0.5, 0.5), (-0.5, 0.5), (-1, 0)]
        ring = []
        for dx, dy in corners:
            lat, lng = _to_lat_lng(x + dx * self.size, y + dy * self.height)
            ring.append([round(lng, 7), round(lat, 7)])
        return ring


def _group_key(group: Group | None) -> Any:
    if group == "owner":
        return cast(Customer.owner_id, String)
    if group == "tier":
        return func.coalesce(Customer.tier, "untiered")
    if group == "industry":
        return Customer.industry
    if group == "pool":
        return cast(Customer.pool_id, String)
    return literal(None, String)


def mercator_y() -> Any:
    """asinh(tan φ): a customer's Mercator y on the unit sphere (`y / R`), = ln tan(π/4 + φ/2)
    but finite at the poles. The last key of `ix_customers_map`, so the index answers it (the
    expression must stay the same, without bound parameters)."""
    return func.asinh(func.tan(func.radians(Customer.latitude)))


def _cells_statement(principal: Principal, box: Box, grid: Grid, group: Group | None) -> Any:
    """(i, j, key, count) per cell: one index-only scan of `ix_customers_map` over the box,
    the cell from two cheap steps of arithmetic per customer, one hash aggregate.

    In units of the grid, u = x / (1.5·size) (the column coordinate) and v = y / (√3·size).
    Column i0 = ⌊u⌋, f = u − i0; its centres sit at rows va = v − (i0 odd: ½). The point is in
    column i0's hexagon, row round(va), when 1.5·f + |va − round(va)| ≤ 1 (nearer that centre
    than column i0 + 1's: the squared distances differ by 2.25·s²·(2f − 1) + 3·s²·(|ea|² −
    |eb|²), and |ea| + |eb| = ½ since the two columns' rows interleave by half a row), else
    in column i0 + 1, row round(va + (i0 odd) − ½). Each step is an `OFFSET 0` subquery so
    PostgreSQL computes u, v, i0 and va once per row instead of inlining them everywhere.
    """
    width, height = 1.5 * grid.size, grid.height
    u = Customer.longitude * (MERCATOR_R * math.pi / 180 / width)
    v = mercator_y() * (MERCATOR_R / height)
    points = (
        select(u.label("u"), v.label("v"), _group_key(group).label("key"))
        .where(
            customer_visibility(principal),
            Customer.longitude.between(box.min_lng, box.max_lng),
            Customer.latitude.between(box.min_lat, box.max_lat),
        )
        .offset(literal_column("0", Integer))
        .subquery("points")
    )
    column = func.floor(points.c.u)
    odd = cast(column, Integer).op("&", return_type=Integer)(literal_column("1", Integer))
    columns = (
        select(
            cast(column, Integer).label("i0"),
            (points.c.u - column).label("f"),
            (points.c.v - cast(odd, Float) * 0.5).label("va"),
            points.c.key,
        )
        .offset(literal_column("0", Integer))
        .subquery("columns")
    )
    i0, va = columns.c.i0, columns.c.va
    left = 1.5 * columns.c.f + func.abs(va - func.round(va)) <= 1
    odd_i0 = cast(i0.op("&", return_type=Integer)(literal_column("1", Integer)), Float)
    cell_i = case((left, i0), else_=i0 + 1).label("i")
    cell_j = case(
        (left, cast(func.round(va), Integer)),
        else_=cast(func.round(va + odd_i0 - 0.5), Integer),
    ).label("j")
    return (
        select(cell_i, cell_j, columns.c.key, func.count().label("count"))
        .group_by(cell_i, cell_j, columns.c.key)
        .order_by(cell_i, cell_j, columns.c.key)
    )


async def _names(
    session: AsyncSession, principal: Principal, group: Group | None, keys: set[str]
) -> dict[str, str]:
    if group not in ("owner", "pool") or not keys:
        return {}
    ids = [uuid.UUID(key) for key in keys]
    if group == "owner":
        stmt: Any = select(User.id, User.name).where(
            User.company_id == principal.company_id, User.id.in_(ids)
        )
    else:
        stmt = select(Pool.id, Pool.name).where(
            Pool.company_id == principal.company_id, Pool.id.in_(ids)
        )
    return {str(row_id): name for row_id, name in (await session.execute(stmt)).all()}


async def customer_map(
    session: AsyncSession, principal: Principal, box: Box, cell_m: int, group: Group | None
) -> dict[str, Any]:
    """Visible customers (the one customer visibility rule) per hexagon of the box, most
    crowded first, with counts per group in each."""
    cap = max_km2(cell_m)
    if box.km2 > cap:
        raise coverage_errors.bbox_too_large(cap)
    centre_lat = (box.min_lat + box.max_lat) / 2
    grid = Grid(cell_m / math.cos(math.radians(centre_lat)))
    rows = (await session.execute(_cells_statement(principal, box, grid, group))).all()
    names = await _names(
        session, principal, group, {row.key for row in rows if row.key is not None}
    )
    cells: dict[tuple[int, int], dict[str, Any]] = {}
    for row in rows:
        cell = cells.get((row.i, row.j))
        if cell is None:
            lat, lng = _to_lat_lng(*grid.centre(row.i, row.j))
            cell = cells[(row.i, row.j)] = {
                "id": f"{row.i},{row.j}",
                "i": row.i,
                "j": row.j,
                "center": {"lat": round(lat, 7), "lng": round(lng, 7)},
                "polygon": {"type": "Polygon", "coordinates": [grid.polygon(row.i, row.j)]},
                "count": 0,
                "groups": [],
            }
        cell["count"] += row.count
        if group is not None:
            key = row.key
            cell["groups"].append(
                {"key": key, "name": names.get(key) if key else None, "count": row.count}
            )
    ordered = sorted(cells.values(), key=lambda c: (-c["count"], c["i"], c["j"]))
    for cell in ordered:
        cell["groups"].sort(key=lambda g: (-g["count"], g["key"] is None, g["key"] or ""))
    return {
        "bbox": box.as_list(),
        "cell_m": cell_m,
        "group": group,
        "total": sum(c["count"] for c in ordered),
        "cells": ordered,
    }
