"""The audit of revealed phone numbers (`POST /v1/customers/{id}/phone-reveal`)."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.core.tenancy import tenant_fk, tenant_key
from app.db import Base, created_at_column, uuid_pk


class PhoneReveal(Base):
    """Who saw which numbers of a customer (or of one of its contacts), and when.

    The numbers are kept masked (`138****5678`): the audit says which number without holding
    a second copy of it. A purged customer or contact leaves its audit rows (ids nulled)."""

    __tablename__ = "phone_reveals"
    __table_args__ = (
        Index("ix_phone_reveals_customer", "company_id", "customer_id", "revealed_at"),
        Index("ix_phone_reveals_user", "company_id", "user_id", "revealed_at"),
        tenant_key("phone_reveals"),
        tenant_fk("phone_reveals", "user_id", "users"),
        tenant_fk("phone_reveals", "customer_id", "customers", ondelete="SET NULL (customer_id)"),
        tenant_fk(
            "phone_reveals", "contact_id", "customer_contacts", ondelete="SET NULL (contact_id)"
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID]
    customer_id: Mapped[uuid.UUID | None]
    contact_id: Mapped[uuid.UUID | None]
    numbers_masked: Mapped[list[str]] = mapped_column(ARRAY(String(50)))
    revealed_at: Mapped[datetime] = created_at_column()
