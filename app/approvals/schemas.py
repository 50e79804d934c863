"""Request and response bodies for approval flows and approvals."""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    Discriminator,
    Field,
    PlainSerializer,
    Tag,
    WithJsonSchema,
    model_validator,
)

from app.core import limits
from app.core.schemas import Strict
from app.core.types import MoneyOut, Name

FlowKind = Literal["contract", "discount", "payment"]
ApprovalStatus = Literal["pending", "approved", "rejected", "withdrawn"]
ApprovalRole = Literal["approver", "submitter"]
RecordType = Literal["contract", "payment"]
StepMode = Literal["any", "all"]
MAX_STEPS = 10
MAX_NAMED_APPROVERS = 50

Threshold = Annotated[
    Decimal,
    Field(
        ge=0,
        lt=1,
        max_digits=5,
        decimal_places=4,
        description="Discount flows: a line discount above this fraction (e.g. 0.15) needs "
        "approval. A decimal string or number, 0 ≤ threshold < 1, up to 4 places.",
    ),
]


def _four_places(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.0001'))}"


ThresholdOut = Annotated[
    Decimal,
    PlainSerializer(_four_places, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "examples": ["0.1500"]}, mode="serialization"),
]
"""A threshold in a response: a decimal string with four places (`"0.1500"`)."""


class ManagerApprovers(Strict):
    """The submitter's managers at level N: level 1 is the managers of the submitter's own
    department (or of the nearest department above that has managers; a submitter who is a
    manager there starts one department higher), level 2 the next department above that has
    managers, and so on."""

    type: Literal["manager"]
    levels: int = Field(ge=1, le=5, description="Which level up (1 = the nearest managers).")


class RoleApprovers(Strict):
    """Every active user of the role (the company's admins)."""

    type: Literal["role"]
    role: Literal["admin"]


class UsersApprovers(Strict):
    """Named users (active users of the company)."""

    type: Literal["users"]
    user_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_NAMED_APPROVERS)


def _approvers_type(value: Any) -> str | None:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return kind if isinstance(kind, str) else None


# A callable discriminator: `Strict` models check every field in a "before" validator, which
# pydantic does not allow on a field-name discriminator.
Approvers = Annotated[
    Annotated[ManagerApprovers, Tag("manager")]
    | Annotated[RoleApprovers, Tag("role")]
    | Annotated[UsersApprovers, Tag("users")],
    Discriminator(
        _approvers_type,
        custom_error_type="approvers_type",
        custom_error_message="`type` must be `manager`, `role` or `users`",
    ),
]


class FlowStep(Strict):
    approvers: Approvers
    mode: StepMode = Field(
        "any", description="`any`: one approval decides the step; `all`: every approver must."
    )


Steps = Annotated[list[FlowStep], Field(min_length=1, max_length=MAX_STEPS)]


class FlowCreate(Strict):
    id: uuid.UUID | None = None
    kind: FlowKind
    name: Name
    steps: Steps
    threshold: Threshold | None = Field(None, description="Required for `discount`, else absent.")
    active: bool = Field(
        True, description="Activating a flow deactivates the kind's active one (one per kind)."
    )

    @model_validator(mode="after")
    def _threshold_for_discount(self) -> Self:
        if self.kind == "discount" and self.threshold is None:
            raise ValueError("a discount flow needs a threshold")
        if self.kind != "discount" and self.threshold is not None:
            raise ValueError("only a discount flow has a threshold")
        return self


class FlowUpdate(Strict):
    """Changes apply to new submissions only: a pending approval keeps the steps it resolved."""

    name: Name | None = None
    steps: Steps | None = None
    threshold: Threshold | None = None
    active: bool | None = None


class FlowOut(BaseModel):
    id: uuid.UUID
    kind: FlowKind
    name: str
    steps: list[FlowStep]
    threshold: ThresholdOut | None
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class ApproveBody(Strict):
    comment: str | None = Field(None, max_length=limits.REASON_MAX)


class RejectBody(Strict):
    reason: str = Field(min_length=1, max_length=limits.REASON_MAX)


class ApproverOut(BaseModel):
    user_id: uuid.UUID
    name: str
    decision: Literal["approved", "rejected"] | None
    decided_at: datetime | None


class StepOut(BaseModel):
    index: int
    mode: StepMode
    approvers_rule: dict[str, object] = Field(
        description="The flow's `approvers` of this step, as it was at submission."
    )
    skipped: bool
    skip_reason: Literal["no_approver", "self_approval"] | None
    approvers: list[ApproverOut] = Field(
        description="Who may decide the step (resolved at submission) and what they decided; "
        "for a step skipped as `self_approval`, who would have."
    )


class ActionOut(BaseModel):
    step: int | None
    action: Literal["submit", "approve", "reject", "withdraw", "skip"]
    actor_id: uuid.UUID | None
    reason: str | None = Field(description="A comment, a rejection's reason or why skipped.")
    at: datetime


class ApprovalOut(BaseModel):
    id: uuid.UUID
    flow_id: uuid.UUID
    kind: FlowKind
    record_type: RecordType
    record_id: uuid.UUID
    customer_id: uuid.UUID | None
    title: str
    amount: MoneyOut | None
    submitter_id: uuid.UUID
    status: ApprovalStatus
    current_step: int | None = Field(description="The step being decided (null once ended).")
    can_decide: bool = Field(description="Whether the caller may approve or reject it now.")
    steps: list[StepOut]
    reason: str | None = Field(description="The rejection's reason.")
    decided_at: datetime | None
    actions: list[ActionOut] | None = Field(
        None, description="The history, oldest first (on `GET /v1/approvals/{id}` only)."
    )
    version: int
    created_at: datetime
    updated_at: datetime
