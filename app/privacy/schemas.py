"""Bodies of the phone reveal."""

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from app.core.schemas import Strict


class PhoneRevealIn(Strict):
    contact_id: uuid.UUID | None = Field(
        None, description="Reveal this contact's numbers instead of the customer's phone."
    )


class PhoneRevealOut(BaseModel):
    customer_id: uuid.UUID
    contact_id: uuid.UUID | None
    phones: list[str] = Field(description="The numbers in full (empty when there are none).")
    revealed_at: datetime
