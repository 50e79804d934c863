"""Imports every table so Alembic and the tests see the whole schema."""

from app.approvals.models import Approval, ApprovalAction, ApprovalApprover, ApprovalFlow
from app.attendance.models import AttendanceRecord, AttendanceSite
from app.auth.models import RefreshToken
from app.core.idempotency_models import IdempotencyRecord
from app.coverage.models import CoverageTier
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
from app.feed.models import FeedComment, FeedItem, FeedLike
from app.fieldwork.models import (
    Attachment,
    Checkin,
    Followup,
    StoredFile,
    VisitPlan,
    WorkLog,
    WorkLogCustomer,
)
from app.leads.models import (
    Campaign,
    ImportJob,
    Lead,
    LeadEvent,
    LeadPool,
    LeadPoolMember,
    LeadSettings,
)
from app.money.models import (
    Contract,
    ContractCounter,
    ContractLine,
    Payment,
    PaymentAllocation,
    PaymentPlan,
    Product,
)
from app.notifications.models import (
    Device,
    Notification,
    NotificationPreference,
    PushAttempt,
    Webhook,
    WebhookDelivery,
)
from app.ops.models import JobRun, ReminderRun
from app.org.models import Company, Department, User
from app.pipeline.models import LostReason, Opportunity, Pipeline, Stage, StageChange
from app.privacy.models import PhoneReveal
from app.targets.models import DepartmentMembership, Target
from app.tasks.models import Task, TaskAssignee
from app.tickets.models import Ticket, TicketEvent, TicketRating

__all__ = [
    "Task",
    "TaskAssignee",
    "Ticket",
    "TicketEvent",
    "TicketRating",
    "AttendanceRecord",
    "AttendanceSite",
    "CoverageTier",
    "DepartmentMembership",
    "PhoneReveal",
    "Target",
    "Approval",
    "ApprovalAction",
    "ApprovalApprover",
    "ApprovalFlow",
    "Contract",
    "ContractCounter",
    "ContractLine",
    "Payment",
    "PaymentAllocation",
    "PaymentPlan",
    "Product",
    "Campaign",
    "ImportJob",
    "Lead",
    "LeadEvent",
    "LeadPool",
    "LeadPoolMember",
    "LeadSettings",
    "LostReason",
    "Opportunity",
    "Pipeline",
    "Stage",
    "StageChange",
    "Attachment",
    "Base",
    "Checkin",
    "Followup",
    "StoredFile",
    "VisitPlan",
    "WorkLog",
    "Webhook",
    "WebhookDelivery",
    "WorkLogCustomer",
    "Collaborator",
    "Contact",
    "Customer",
    "Deal",
    "Device",
    "FeedComment",
    "FeedItem",
    "FeedLike",
    "OwnershipEvent",
    "Pool",
    "PoolSettings",
    "PushAttempt",
    "ReminderRun",
    "Company",
    "Department",
    "IdempotencyRecord",
    "JobRun",
    "Notification",
    "NotificationPreference",
    "RefreshToken",
    "User",
]
