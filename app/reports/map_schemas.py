"""Bodies of the customer map."""

from pydantic import BaseModel, Field

from app.reports.customer_map import Group


class LatLng(BaseModel):
    lat: float
    lng: float


class Polygon(BaseModel):
    type: str = Field("Polygon", description="GeoJSON (RFC 7946): [lng, lat] pairs, WGS-84.")
    coordinates: list[list[list[float]]]


class MapGroup(BaseModel):
    key: str | None = Field(
        description="Owner or pool id, tier (`untiered` for none), industry; null: none (an "
        "owner's null is the pool)."
    )
    name: str | None = Field(description="The owner's or pool's name.")
    count: int


class MapCell(BaseModel):
    id: str = Field(description="`i,j`: the cell of ST_HexagonGrid (EPSG:3857).")
    i: int
    j: int
    center: LatLng
    polygon: Polygon
    count: int
    groups: list[MapGroup] = Field(description="Per `group` (empty without), largest first.")


class CustomerMap(BaseModel):
    bbox: list[float]
    cell_m: int
    group: Group | None
    total: int
    cells: list[MapCell] = Field(description="Cells with customers, most crowded first.")
