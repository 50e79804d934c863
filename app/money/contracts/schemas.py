"""Request and response bodies for contracts and their lines."""

import re
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, PlainSerializer, WithJsonSchema

from app.core import limits
from app.core.schemas import Strict
from app.core.types import BusinessDate, Money, MoneyOut, Name

ContractStatus = Literal["draft", "pending_approval", "active", "completed", "terminated"]
NUMBER_MAX = 40
LINES_MAX = 200
DESCRIPTION_MAX = 500

# Quantities and discounts are exact too: a decimal string (a quantity may also be a JSON
# integer), never a float that a client may have rounded.
QUANTITY_PATTERN = r"^[0-9]{1,11}(\.[0-9]{1,3})?$"
DISCOUNT_PATTERN = r"^0(\.[0-9]{1,4})?$"
_QUANTITY = re.compile(QUANTITY_PATTERN)
_DISCOUNT = re.compile(DISCOUNT_PATTERN)


def _quantity(value: Any) -> Any:
    if isinstance(value, Decimal) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if not isinstance(value, str) or not _QUANTITY.match(value):
        raise ValueError("a quantity is a decimal string with up to 3 places, e.g. '2.5'")
    return value


def _discount(value: Any) -> Any:
    if isinstance(value, Decimal) or (type(value) is int and value == 0):
        return value
    if not isinstance(value, str) or not _DISCOUNT.match(value):
        raise ValueError("a discount is a decimal string from 0 to below 1, e.g. '0.15'")
    return value


Quantity = Annotated[
    Decimal,
    BeforeValidator(_quantity),
    Field(gt=0),
    WithJsonSchema(
        {
            "oneOf": [
                {"type": "string", "pattern": QUANTITY_PATTERN},
                {"type": "integer", "minimum": 1},
            ],
            "description": "More than 0; a decimal string with up to three places, or an integer.",
            "examples": ["3", "2.5"],
        },
        mode="validation",
    ),
]
Discount = Annotated[
    Decimal,
    BeforeValidator(_discount),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": DISCOUNT_PATTERN,
            "description": "A fraction from 0 to below 1 (0.15 = 15 % off), up to four places.",
            "examples": ["0.15"],
        },
        mode="validation",
    ),
]


def _places(places: int) -> Any:
    quantum = Decimal(1).scaleb(-places)

    def render(value: Decimal) -> str:
        return f"{value.quantize(quantum)}"

    return PlainSerializer(render, return_type=str, when_used="json")


QuantityOut = Annotated[
    Decimal,
    _places(3),
    WithJsonSchema({"type": "string", "examples": ["3.000"]}, mode="serialization"),
]
DiscountOut = Annotated[
    Decimal,
    _places(4),
    WithJsonSchema({"type": "string", "examples": ["0.1500"]}, mode="serialization"),
]


class LineIn(Strict):
    product_id: uuid.UUID | None = Field(None, description="An active product of the company.")
    description: str | None = Field(
        None, max_length=DESCRIPTION_MAX, description="Default: the product's name."
    )
    quantity: Quantity
    unit_price: Money | None = Field(None, description="Default: the product's list price.")
    discount: Discount = Decimal(0)


class ContractCreate(Strict):
    id: uuid.UUID | None = None
    customer_id: uuid.UUID
    opportunity_id: uuid.UUID | None = Field(None, description="One of the customer's.")
    number: str | None = Field(
        None,
        min_length=1,
        max_length=NUMBER_MAX,
        description="Unique in the company; default HT-<year>-<6 digits>.",
    )
    title: Name
    amount: Money | None = Field(
        None, description="Without lines: required. With lines: their sum (else 422)."
    )
    lines: list[LineIn] = Field(default_factory=list, max_length=LINES_MAX)
    signed_on: BusinessDate | None = Field(None, description="Default: the day it becomes active.")
    start_date: BusinessDate | None = None
    end_date: BusinessDate | None = None
    note: str | None = Field(None, max_length=limits.NOTE_MAX)
    owner_id: uuid.UUID | None = Field(None, description="Default: the customer's owner.")


class ContractUpdate(Strict):
    """Draft: every field. Active, completed or terminated: title, note and end_date only
    (the rest → 409 `contract_locked`)."""

    customer_id: uuid.UUID | None = None
    opportunity_id: uuid.UUID | None = None
    number: str | None = Field(None, min_length=1, max_length=NUMBER_MAX)
    title: Name | None = None
    amount: Money | None = None
    lines: list[LineIn] | None = Field(None, max_length=LINES_MAX)
    signed_on: BusinessDate | None = None
    start_date: BusinessDate | None = None
    end_date: BusinessDate | None = None
    note: str | None = Field(None, max_length=limits.NOTE_MAX)
    owner_id: uuid.UUID | None = None


class TerminateIn(Strict):
    reason: str = Field(min_length=1, max_length=limits.REASON_MAX)


class LineOut(BaseModel):
    id: uuid.UUID
    product_id: uuid.UUID | None
    product_code: str | None = Field(description="The product's, also once it is deleted.")
    product_name: str | None
    description: str | None
    quantity: QuantityOut
    unit_price: MoneyOut
    discount: DiscountOut
    amount: MoneyOut
    position: int


class ContractOut(BaseModel):
    id: uuid.UUID
    number: str
    customer_id: uuid.UUID
    opportunity_id: uuid.UUID | None
    owner_id: uuid.UUID
    title: str
    amount: MoneyOut
    currency: str
    lines: list[LineOut]
    signed_on: date | None
    start_date: date | None
    end_date: date | None
    status: ContractStatus
    received: MoneyOut = Field(description="Confirmed payments less their reversals.")
    outstanding: MoneyOut = Field(description="amount − received.")
    approval_id: uuid.UUID | None = Field(description="The pending approval, while there is one.")
    note: str | None
    submitted_at: datetime | None
    activated_at: datetime | None
    completed_at: datetime | None
    terminated_at: datetime | None
    terminated_reason: str | None
    created_by: uuid.UUID | None
    version: int
    created_at: datetime
    updated_at: datetime
