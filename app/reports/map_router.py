"""HTTP: the customer map (density in hexagonal cells)."""

from decimal import Decimal

from fastapi import APIRouter, Query, Response

from app.core.errors import problem_responses
from app.deps import Caller, Session
from app.reports import customer_map as maps
from app.reports.export import CSV_RESPONSE, FORMAT_QUERY, ReportFormat, csv_response
from app.reports.map_schemas import CustomerMap

router = APIRouter(tags=["reports"])

CSV_COLUMNS = (
    "cell",
    "center_lat",
    "center_lng",
    "count",
    "group_key",
    "group_name",
    "group_count",
)


def _number(value: float) -> Decimal:
    return Decimal(str(value))


@router.get(
    "/v1/reports/customer-map",
    operation_id="getCustomerMap",
    response_model=CustomerMap,
    summary="Customer density map",
    responses={**CSV_RESPONSE, **problem_responses(401, 422)},
)
async def get_customer_map(
    *,
    bbox: str = Query(
        description="`minLng,minLat,maxLng,maxLat` (WGS-84). At most "
        f"{maps.MAX_BBOX_KM2} km², and at most {maps.MAX_CELLS} cells of `cell_m` "
        "(422 `bbox_too_large` says the cap).",
        max_length=200,
    ),
    cell_m: int = Query(
        maps.CELL_M_DEFAULT,
        ge=maps.CELL_M_MIN,
        le=maps.CELL_M_MAX,
        description="The hexagons' edge (= centre to corner) in metres on the ground, at the "
        "box's centre latitude.",
    ),
    group: maps.Group | None = Query(None, description="Counts per this, within each cell."),
    format: ReportFormat = FORMAT_QUERY,
    principal: Caller,
    session: Session,
) -> CustomerMap | Response:
    """How many customers the caller may see (reps: their own, collaborations and the pool;
    managers: also their subtree's; admins: the company) are located in each hexagon over the
    box — PostGIS `ST_HexagonGrid` cells in EPSG:3857 — with each cell's centre and its
    hexagon as a GeoJSON polygon, and counts per owner, tier, industry or pool. Customers
    without a location are not on the map."""
    box = maps.parse_bbox(bbox)
    report = CustomerMap(**await maps.customer_map(session, principal, box, cell_m, group))
    if format == "csv":
        rows: list[list[object]] = []
        for cell in report.cells:
            head = [cell.id, _number(cell.center.lat), _number(cell.center.lng), cell.count]
            if not cell.groups:
                rows.append([*head, None, None, None])
            for item in cell.groups:
                rows.append([*head, item.key, item.name, item.count])
        return csv_response("customer-map.csv", CSV_COLUMNS, rows)
    return report
