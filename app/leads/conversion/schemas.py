"""Bodies of a lead conversion."""

import uuid

from pydantic import BaseModel, Field, model_validator

from app.core.schemas import Strict
from app.core.types import BusinessDate, Money, Name
from app.customers.schemas import ContactCreate, CustomerCreate


class ConvertOpportunity(Strict):
    name: Name
    amount: Money | None = None
    expected_close_date: BusinessDate | None = None
    pipeline_id: uuid.UUID | None = Field(
        None, description="Default: the company's default pipeline; it starts in its first stage."
    )


class ConvertIn(Strict):
    customer: CustomerCreate | None = Field(
        None,
        description="A new customer; default: made from the lead through the company's field "
        "mapping (`/v1/lead-settings`).",
    )
    existing_customer_id: uuid.UUID | None = Field(
        None, description="Link an existing customer you own or collaborate on instead."
    )
    contact: ContactCreate | None = Field(
        None, description="Default: the lead's person (name, title, phone, e-mail)."
    )
    opportunity: ConvertOpportunity | None = None

    @model_validator(mode="after")
    def _one_customer(self) -> "ConvertIn":
        if self.customer is not None and self.existing_customer_id is not None:
            raise ValueError("give `customer` or `existing_customer_id`, not both")
        if self.customer is not None and self.customer.in_pool:
            raise ValueError("a converted lead's customer is yours: `in_pool` must be false")
        return self


class ConvertOut(BaseModel):
    customer_id: uuid.UUID
    contact_id: uuid.UUID
    opportunity_id: uuid.UUID | None
    customer_created: bool = Field(
        description="False when the lead was linked to an existing customer."
    )
