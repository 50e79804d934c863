"""The company's coverage policy: per customer tier, how often it must be visited and for how
long (资源 = 拜访频率 × 每次拜访时间 × 目标客户数)."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, updated_at_column

TIERS = ("A", "B", "C", "untiered")
FREQUENCY_PERIODS = ("week", "month", "quarter", "year")
MONTHS_PER = {"week": None, "month": 1, "quarter": 3, "year": 12}
DEFAULT_POLICY: dict[str, dict[str, Any]] = {
    "A": {"visits": 4, "per": "month", "minutes_per_visit": 180},
    "B": {"visits": 2, "per": "month", "minutes_per_visit": 60},
    "C": {"visits": 1, "per": "quarter", "minutes_per_visit": 20},
    "untiered": {"visits": 0, "per": "month", "minutes_per_visit": 0},
}


class CoverageTier(Base):
    """One tier's rule; a company without rows uses `DEFAULT_POLICY`."""

    __tablename__ = "coverage_policy_tiers"
    __table_args__ = (
        CheckConstraint("tier IN ('A', 'B', 'C', 'untiered')", name="tier"),
        CheckConstraint("per IN ('week', 'month', 'quarter', 'year')", name="per"),
        CheckConstraint("visits >= 0 AND visits <= 1000", name="visits"),
        CheckConstraint("minutes_per_visit >= 0 AND minutes_per_visit <= 1440", name="minutes"),
    )

    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    tier: Mapped[str] = mapped_column(String(8), primary_key=True)
    visits: Mapped[int] = mapped_column(Integer)
    per: Mapped[str] = mapped_column(String(8))
    minutes_per_visit: Mapped[int] = mapped_column(Integer)
    # The policy's version (the same on its four rows): the ETag of `GET /v1/coverage-policy`.
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    updated_at: Mapped[datetime] = updated_at_column()
