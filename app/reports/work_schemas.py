"""Bodies of the work-done and visited-customers reports."""

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.customers.schemas import Tier


class FollowupsByKind(BaseModel):
    call: int
    visit: int
    message: int
    meeting: int
    other: int


class WorkRow(BaseModel):
    kind: Literal["company", "department", "user"]
    id: uuid.UUID = Field(description="The company's, the department's or the user's id.")
    name: str
    parent_id: uuid.UUID | None = Field(
        description="The row above (a department's parent, a rep's department; the company "
        "for the top departments); null for the top row."
    )
    level: int = Field(description="0 for the top row, one more per step down.")
    new_customers: int = Field(description="Measure `new_customers`.")
    new_contacts: int = Field(description="Contacts added.")
    followups: int = Field(description="Measure `followups`.")
    followups_by_kind: FollowupsByKind
    visits: int = Field(description="Check-ins that count (measure `visits`).")
    customers_visited: int = Field(description="Distinct customers of those visits.")
    leads_created: int = Field(description="Measure `new_leads`.")
    leads_converted: int = Field(description="Measure `converted_leads`.")
    opportunities_created: int
    opportunities_advanced: int = Field(
        description="Moves to a later stage that is not lost (stage history, by `at`)."
    )
    opportunities_won: int = Field(description="Measure `won_opportunities`.")
    logs_written: int


class WorkReport(BaseModel):
    since: date
    until: date
    rows: list[WorkRow] = Field(
        description="Depth first: the company (admins, whole company), each department with "
        "its reps then its sub-departments. A department counts what was made while its maker "
        "was in its subtree; a rep's row everything credited to them."
    )


class VisitedCustomer(BaseModel):
    customer_id: uuid.UUID
    name: str
    tier: Tier | None
    owner_id: uuid.UUID | None
    owner_name: str | None
    visits: int = Field(description="Check-ins that count, by the report's users, in the range.")
    last_visit_at: datetime
    visitors: list[str] = Field(description="The distinct visitors' names, sorted.")


class VisitedCustomersReport(BaseModel):
    since: date
    until: date
    total: int = Field(description="Customers visited (all of them, also beyond the cap).")
    truncated: bool = Field(description="More customers were visited than `items` holds.")
    items: list[VisitedCustomer] = Field(
        description="By visits desc, then last visit desc; at most 500."
    )
