"""Request and response bodies for lead pools and the owner changes of leads."""

import uuid
from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, Field, model_validator

from app.core import limits
from app.core.schemas import Strict

PoolMode = Literal["pull", "push", "both"]
Assignment = Literal["manual", "round_robin", "least_loaded"]


class PoolMemberIn(Strict):
    """A department (its whole subtree) or a user: exactly one of the two."""

    department_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.department_id is None) == (self.user_id is None):
            raise ValueError("give exactly one of department_id and user_id")
        return self


class PoolMemberOut(BaseModel):
    department_id: uuid.UUID | None
    user_id: uuid.UUID | None


class LeadPoolCreate(Strict):
    id: uuid.UUID | None = None
    name: str = Field(min_length=1, max_length=limits.NAME_MAX)
    region: str | None = Field(None, max_length=limits.SHORT_TEXT_MAX)
    industry: str | None = Field(None, max_length=limits.SHORT_TEXT_MAX)
    members: list[PoolMemberIn] = Field(default_factory=list, max_length=500)
    mode: PoolMode = "both"
    assignment: Assignment = "manual"
    daily_claim_limit: int | None = Field(None, ge=0, le=100_000)
    holding_cap: int | None = Field(None, ge=0, le=1_000_000, description="Open leads per rep.")
    recycle_after_days: int | None = Field(None, ge=1, le=3650)


class LeadPoolUpdate(Strict):
    name: str | None = Field(None, min_length=1, max_length=limits.NAME_MAX)
    region: str | None = Field(None, max_length=limits.SHORT_TEXT_MAX)
    industry: str | None = Field(None, max_length=limits.SHORT_TEXT_MAX)
    members: list[PoolMemberIn] | None = Field(
        None, max_length=500, description="Replaces the members when given."
    )
    mode: PoolMode | None = None
    assignment: Assignment | None = None
    daily_claim_limit: int | None = Field(None, ge=0, le=100_000)
    holding_cap: int | None = Field(None, ge=0, le=1_000_000)
    recycle_after_days: int | None = Field(None, ge=1, le=3650)


class LeadPoolOut(BaseModel):
    id: uuid.UUID
    name: str
    region: str | None
    industry: str | None
    members: list[PoolMemberOut]
    mode: PoolMode
    assignment: Assignment
    daily_claim_limit: int | None
    holding_cap: int | None
    recycle_after_days: int | None
    version: int
    created_at: datetime
    updated_at: datetime


class AssignIn(Strict):
    user_id: uuid.UUID
    override_cap: bool = Field(False, description="Admins only: assign above the pool's cap.")


class ReleaseIn(Strict):
    reason: str | None = Field(None, max_length=limits.REASON_MAX)


class LeadEventOut(BaseModel):
    id: uuid.UUID
    kind: str
    pool_id: uuid.UUID | None
    user_id: uuid.UUID | None = Field(description="The owner after the event (null: the pool).")
    actor_id: uuid.UUID | None = Field(description="Null: the system.")
    reason: str | None
    at: datetime
