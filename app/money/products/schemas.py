"""Request and response bodies for products."""

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from app.core import limits
from app.core.schemas import Strict
from app.core.types import Money, MoneyOut, Name

CODE_MAX = 64
UNIT_MAX = 32


class ProductCreate(Strict):
    id: uuid.UUID | None = None
    name: Name
    code: str = Field(min_length=1, max_length=CODE_MAX, description="Unique in the company.")
    unit: str | None = Field(None, max_length=UNIT_MAX, description="e.g. 套, 台, license.")
    list_price: Money
    product_line: str | None = Field(None, max_length=limits.SHORT_TEXT_MAX)
    description: str | None = Field(None, max_length=limits.NOTE_MAX)
    active: bool = True


class ProductUpdate(Strict):
    name: Name | None = None
    code: str | None = Field(None, min_length=1, max_length=CODE_MAX)
    unit: str | None = Field(None, max_length=UNIT_MAX)
    list_price: Money | None = None
    product_line: str | None = Field(None, max_length=limits.SHORT_TEXT_MAX)
    description: str | None = Field(None, max_length=limits.NOTE_MAX)
    active: bool | None = None


class ProductOut(BaseModel):
    id: uuid.UUID
    name: str
    code: str
    unit: str | None
    list_price: MoneyOut
    product_line: str | None
    description: str | None
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime
