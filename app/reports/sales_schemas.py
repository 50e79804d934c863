"""Bodies of the sales report."""

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.core.types import MoneyOut

SalesGroup = Literal["month", "quarter", "product_line", "product", "user", "department"]
Growth = Annotated[
    str,
    Field(
        pattern=r"^-?[0-9]+\.[0-9]{4}$",
        description="(this − base) ÷ base, exact to four places (null when the base is 0).",
        examples=["0.1250", "-0.0400"],
    ),
]


class SalesFigures(BaseModel):
    contracts: int = Field(
        description="Contracts signed in the period (active or completed, by `signed_on`); "
        "by product or product line: the contracts with a line in the group."
    )
    contracted: MoneyOut = Field(
        description="Σ their amounts (by product or product line: Σ the group's line amounts)."
    )
    received: MoneyOut = Field(
        description="Σ payments received (confirmed, net of reversals) by `received_on`; by "
        "product or product line: shared out by the contract's line amounts, to the fen."
    )
    contracted_prev: MoneyOut = Field(description="Contracted in the previous period.")
    contracted_yoy: MoneyOut = Field(description="Contracted in the same period a year before.")
    received_prev: MoneyOut
    received_yoy: MoneyOut
    growth_prev: Growth | None = Field(description="Contracted vs the previous period.")
    growth_yoy: Growth | None = Field(description="Contracted vs the same period a year before.")
    received_growth_prev: Growth | None
    received_growth_yoy: Growth | None


class SalesRow(SalesFigures):
    key: str | None = Field(
        description="The month (`2027-03`), quarter (`2027-Q1`), product line, product id, user "
        "id or department id; null: contracts without lines or lines without a product (line)."
    )
    label: str | None = Field(description="The product's, user's or department's name.")
    since: date = Field(description="The period's first day (months/quarters: the calendar's).")
    until: date = Field(description="Its last day, inclusive.")


class SalesReport(BaseModel):
    group: SalesGroup
    since: date = Field(description="First day covered (company time).")
    until: date = Field(description="Last day covered, inclusive.")
    previous_since: date = Field(description="First day of the previous period of the total.")
    previous_until: date
    yoy_since: date = Field(description="First day of the same period a year before.")
    yoy_until: date
    items: list[SalesRow]
    total: SalesFigures
