"""Bodies for visit suggestions and today's route."""

import uuid
from datetime import date, datetime, time
from typing import Literal

from pydantic import BaseModel, Field

from app.core.location import LocationIn, LocationOut
from app.core.schemas import Strict
from app.customers.schemas import Status
from app.fieldwork.plans.schemas import PlanOut, VisitPurpose

PolicyTier = Literal["A", "B", "C", "untiered"]


class Suggestion(BaseModel):
    """A held customer due a visit: plan it with `POST /v1/visit-plans` (`customer_id`,
    `purposes`)."""

    customer_id: uuid.UUID
    customer_name: str
    tier: PolicyTier
    status: Status
    interval_days: float = Field(description="Days between visits by the tier's frequency.")
    last_visit_at: datetime | None = Field(
        description="The last check-in there that counts as a visit (anyone's); null: never."
    )
    days_overdue: float | None = Field(
        description="Days past due on the day asked for; null when never visited (first)."
    )
    distance_m: float | None = Field(description="From `near`, when given and located.")
    location: LocationOut | None
    purposes: list[VisitPurpose] = Field(description="Suggested purposes of the visit.")


class Suggestions(BaseModel):
    date: date
    items: list[Suggestion]


class RouteIn(Strict):
    start: LocationIn = Field(description="Where the trip starts (where you are).")
    end: LocationIn | None = Field(None, description="Where it ends; null: at the last visit.")
    depart_at: time | None = Field(
        None,
        description="Leaving `start` at (company time). Default: the workday start, or now "
        "when that is later (today).",
    )
    save: bool = Field(
        True, description="false: only show the route (nothing saved, no If-Match needed)."
    )


class RouteStop(PlanOut):
    routed: bool = Field(
        description="false: kept where it was (visited already), or put last (no location)."
    )
    arrival_at: datetime | None = Field(description="Estimated arrival (routed stops).")
    departure_at: datetime | None = Field(description="After the tier's minutes per visit.")
    leg_distance_m: float | None = Field(description="From the previous stop (or `start`).")
    late_s: int | None = Field(
        description="Seconds past the planned time's window (0: within it); null: no time."
    )


class OptimizedRoute(BaseModel):
    date: date
    user_id: uuid.UUID
    items: list[RouteStop] = Field(description="The day's plans in the new order.")
    distance_m_before: float
    distance_m_after: float
    duration_s_before: int
    duration_s_after: int
    late_s_before: int
    late_s_after: int
    improved: bool = Field(description="false: the planned order was kept (no shorter one).")
    saved: bool = Field(description="The new order was saved as the plans' `sequence`.")
    depart_at: datetime
    distance_model: Literal["straight_line"] = Field(
        description="No road network: great-circle legs × `detour_factor`, at `speed_kmh`."
    )
    detour_factor: float
    speed_kmh: float
    window_minutes: int = Field(description="A planned time is kept within ± this.")
    unlocated_plan_ids: list[uuid.UUID] = Field(
        description="Plans at customers without a location: kept, last, not routed."
    )
