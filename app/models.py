"""Imports every table so Alembic and the tests see the whole schema."""

from app.auth.models import RefreshToken
from app.core.idempotency_models import IdempotencyRecord
from app.db import Base
from app.ops.models import JobRun
from app.org.models import Company, Department, User

__all__ = ["Base", "Company", "Department", "IdempotencyRecord", "JobRun", "RefreshToken", "User"]
