"""Request and response bodies for customers, contacts, collaborators, pools."""

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core import limits
from app.core.location import LocationIn, LocationOut
from app.core.schemas import Strict
from app.core.types import Birthday, CustomFields, Email, Money, MoneyOut, Phone, ScopeValue, Tag

Status = Literal["prospect", "active", "won", "lost"]
Tier = Literal["A", "B", "C"]
RecycleReason = Literal["no_followup", "no_deal"]
OwnershipKind = Literal["created", "claimed", "released", "recycled", "transferred", "assigned"]


class CustomerFields(Strict):
    name: str = Field(min_length=1, max_length=limits.NAME_MAX)
    industry: str | None = Field(None, max_length=limits.SHORT_TEXT_MAX)
    size: str | None = Field(None, max_length=50)
    tier: Tier | None = None
    source: str | None = Field(None, max_length=limits.SHORT_TEXT_MAX)
    region: str | None = Field(
        None, max_length=100, description="Region used by pool scopes, e.g. 上海."
    )
    address: str | None = Field(None, max_length=limits.ADDRESS_MAX)
    location: LocationIn | None = None
    phone: str | None = Field(None, max_length=limits.PHONE_MAX)
    status: Status = "prospect"
    tags: list[Tag] = Field(default_factory=list, max_length=limits.TAGS_MAX)
    custom_fields: CustomFields = Field(default_factory=dict)


class CustomerCreate(CustomerFields):
    id: uuid.UUID | None = Field(None, description="Client-generated id (offline creation).")
    in_pool: bool = Field(False, description="Create it unowned, straight into its pool.")


class CustomerUpdate(Strict):
    name: str | None = Field(None, min_length=1, max_length=limits.NAME_MAX)
    industry: str | None = Field(None, max_length=limits.SHORT_TEXT_MAX)
    size: str | None = Field(None, max_length=50)
    tier: Tier | None = None
    source: str | None = Field(None, max_length=limits.SHORT_TEXT_MAX)
    region: str | None = Field(None, max_length=limits.SHORT_TEXT_MAX)
    address: str | None = Field(None, max_length=limits.ADDRESS_MAX)
    location: LocationIn | None = None
    phone: str | None = Field(None, max_length=limits.PHONE_MAX)
    status: Status | None = None
    tags: list[Tag] | None = Field(None, max_length=limits.TAGS_MAX)
    custom_fields: CustomFields | None = None


class UserRef(BaseModel):
    id: uuid.UUID
    name: str


class CustomerOut(BaseModel):
    id: uuid.UUID
    name: str
    industry: str | None
    size: str | None
    tier: Tier | None
    source: str | None
    region: str | None
    address: str | None
    location: LocationOut | None
    phone: str | None
    status: Status
    tags: list[str]
    custom_fields: dict[str, Any]
    owner_id: uuid.UUID | None = Field(description="Null while the customer sits in the pool.")
    in_pool: bool
    pool_id: uuid.UUID
    claimed_at: datetime | None
    last_followup_at: datetime | None
    next_followup_at: datetime | None
    last_deal_at: datetime | None
    recycle_at: datetime | None = Field(
        description="When it returns to the pool if nothing happens."
    )
    recycle_reason: RecycleReason | None
    pooled_at: datetime | None = Field(description="When it entered the pool (pool customers).")
    pool_entry_kind: str | None = Field(
        description="How it got there: released, recycled, created…"
    )
    pool_reason: str | None
    previous_owner_id: uuid.UUID | None
    version: int
    created_at: datetime
    updated_at: datetime


class CustomerMoney(BaseModel):
    """The customer's signed (active and completed) contracts at a glance."""

    contracts: int
    contracted: MoneyOut = Field(description="Σ amount of those contracts.")
    received: MoneyOut = Field(description="Confirmed payments on them, net of reversals.")
    outstanding: MoneyOut = Field(description="contracted − received.")
    overdue: MoneyOut = Field(
        description="The unpaid part of their instalments past due (company time)."
    )


class CustomerDetail(CustomerOut):
    """One customer (GET by id): its fields and its money summary."""

    money: CustomerMoney


class DuplicateMatch(BaseModel):
    customer_id: uuid.UUID
    matched_on: list[Literal["name", "phone"]]
    visible: bool = Field(description="The caller can open it.")
    in_pool: bool = Field(description="It sits in the pool: claim it instead of creating it.")
    name: str | None = Field(description="Shown only when visible or in the pool.")


class DuplicateCheck(BaseModel):
    duplicates: list[DuplicateMatch]


class ContactCreate(Strict):
    id: uuid.UUID | None = None
    name: str = Field(min_length=1, max_length=limits.NAME_MAX)
    title: str | None = Field(None, max_length=limits.NAME_MAX)
    phones: list[Phone] = Field(default_factory=list, max_length=limits.PHONES_MAX)
    email: Email | None = None
    birthday: Birthday | None = None
    is_primary: bool = False


class ContactUpdate(Strict):
    name: str | None = Field(None, min_length=1, max_length=limits.NAME_MAX)
    title: str | None = Field(None, max_length=limits.NAME_MAX)
    phones: list[Phone] | None = Field(None, max_length=limits.PHONES_MAX)
    email: Email | None = None
    birthday: Birthday | None = None
    is_primary: bool | None = None


class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    customer_id: uuid.UUID
    name: str
    title: str | None
    phones: list[str]
    email: str | None
    birthday: date | None
    is_primary: bool
    version: int
    created_at: datetime
    updated_at: datetime


class CollaboratorCreate(Strict):
    user_id: uuid.UUID
    role: str = Field(min_length=1, max_length=50, description="e.g. technical, after-sales.")


class CollaboratorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    customer_id: uuid.UUID
    user_id: uuid.UUID
    role: str
    added_by: uuid.UUID | None
    created_at: datetime


class ReleaseIn(Strict):
    reason: str = Field(min_length=1, max_length=limits.REASON_MAX)
    pool_id: uuid.UUID | None = Field(None, description="Send it to this pool instead of its own.")


class TransferIn(Strict):
    to_user_id: uuid.UUID
    reason: str | None = Field(None, max_length=limits.REASON_MAX)
    override_cap: bool = Field(False, description="Admins only: ignore the holding cap.")


class DealIn(Strict):
    id: uuid.UUID | None = None
    amount: Money | None = None
    note: str | None = Field(None, max_length=limits.NOTE_MAX)


class DealOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    customer_id: uuid.UUID
    user_id: uuid.UUID
    amount: MoneyOut | None
    note: str | None
    closed_at: datetime


class OwnershipEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    customer_id: uuid.UUID
    kind: OwnershipKind
    from_user_id: uuid.UUID | None
    to_user_id: uuid.UUID | None
    actor_id: uuid.UUID | None = Field(description="Null when the system did it.")
    pool_id: uuid.UUID | None
    reason: str | None
    created_at: datetime


class TimelineItem(BaseModel):
    kind: str = Field(description="ownership.<kind> or deal (follow-ups and check-ins join later).")
    at: datetime
    actor_id: uuid.UUID | None
    summary: str
    data: dict[str, Any]


class DepartmentCap(Strict):
    department_id: uuid.UUID
    holding_cap: int = Field(ge=0, le=100_000)


class PoolRulesIn(Strict):
    holding_cap: int = Field(ge=0, le=100_000)
    won_exempt: bool = True
    department_caps: list[DepartmentCap] = Field(default_factory=list, max_length=1000)


class PoolRulesOut(BaseModel):
    holding_cap: int
    won_exempt: bool
    department_caps: list[DepartmentCap]
    version: int


class PoolRuleFields(Strict):
    no_followup_days: int | None = Field(15, ge=1, le=3650, description="Null disables the rule.")
    no_deal_days: int | None = Field(30, ge=1, le=3650, description="Null disables the rule.")
    warning_days: int = Field(3, ge=0, le=365)
    reclaim_cooldown_days: int = Field(7, ge=0, le=365)
    daily_claim_limit: int = Field(10, ge=0, le=10_000)
    claim_department_ids: list[uuid.UUID] = Field(
        default_factory=list,
        description="Departments (with subtrees) whose reps may claim; empty = all.",
    )


class PoolCreate(PoolRuleFields):
    id: uuid.UUID | None = None
    name: str = Field(min_length=1, max_length=limits.NAME_MAX)
    regions: list[ScopeValue] = Field(default_factory=list, max_length=limits.SCOPE_VALUES_MAX)
    industries: list[ScopeValue] = Field(default_factory=list, max_length=limits.SCOPE_VALUES_MAX)


class PoolUpdate(Strict):
    name: str | None = Field(None, min_length=1, max_length=limits.NAME_MAX)
    regions: list[ScopeValue] | None = Field(None, max_length=limits.SCOPE_VALUES_MAX)
    industries: list[ScopeValue] | None = Field(None, max_length=limits.SCOPE_VALUES_MAX)
    no_followup_days: int | None = Field(None, ge=1, le=3650)
    no_deal_days: int | None = Field(None, ge=1, le=3650)
    warning_days: int | None = Field(None, ge=0, le=365)
    reclaim_cooldown_days: int | None = Field(None, ge=0, le=365)
    daily_claim_limit: int | None = Field(None, ge=0, le=10_000)
    claim_department_ids: list[uuid.UUID] | None = None


class PoolOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    is_default: bool
    regions: list[str]
    industries: list[str]
    no_followup_days: int | None
    no_deal_days: int | None
    warning_days: int
    reclaim_cooldown_days: int
    daily_claim_limit: int
    claim_department_ids: list[uuid.UUID]
    version: int
    created_at: datetime
    updated_at: datetime


class PreviewDay(BaseModel):
    date: date
    count: int


class PoolPreviewOut(BaseModel):
    affected_customers: int = Field(description="Owned customers governed by this pool's rules.")
    due_now: int = Field(description="Would be recycled at the next worker run.")
    due_within_7_days: int
    due_within_30_days: int
    changed: int = Field(description="Customers whose recycle_at would change.")
    by_day: list[PreviewDay] = Field(
        description="Due customers per day (company time zone), next 30 days."
    )


class NearbyCustomer(BaseModel):
    id: uuid.UUID
    name: str
    address: str | None
    phone: str | None = Field(description="Masked (138****5678) where the company says so.")
    location: LocationOut
    distance_m: float
    in_pool: bool
    owner_id: uuid.UUID | None


class NearbyOut(BaseModel):
    items: list[NearbyCustomer]
