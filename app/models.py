"""Imports every table so Alembic and the tests see the whole schema."""

from app.auth.models import RefreshToken
from app.core.idempotency_models import IdempotencyRecord
from app.customers.models import (
    Collaborator,
    Contact,
    Customer,
    Deal,
    OwnershipEvent,
    Pool,
    PoolSettings,
)
from app.db import Base
from app.fieldwork.models import (
    Attachment,
    Checkin,
    Followup,
    StoredFile,
    VisitPlan,
    WorkLog,
    WorkLogCustomer,
)
from app.ops.models import JobRun
from app.org.models import Company, Department, User

__all__ = [
    "Attachment",
    "Base",
    "Checkin",
    "Followup",
    "StoredFile",
    "VisitPlan",
    "WorkLog",
    "WorkLogCustomer",
    "Collaborator",
    "Contact",
    "Customer",
    "Deal",
    "OwnershipEvent",
    "Pool",
    "PoolSettings",
    "Company",
    "Department",
    "IdempotencyRecord",
    "JobRun",
    "RefreshToken",
    "User",
]
