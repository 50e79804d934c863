"""Restoring soft-deleted records within the company's `restore_days` (default 30).

Who: admins, and the managers above the record's owner (their department subtree holds the
owner — a manager so restores their own records too); for a deleted pool customer (no owner)
any manager. The owner who is a rep asks their manager (403); anyone else gets 404, as for any
record they cannot see. A restored record is as it was (its clocks recomputed for a customer);
a record on a deleted customer waits for the customer (409 `customer_deleted`); a customer
whose name or phone a live customer has taken since is refused (409 `duplicate_customer`).
"""

import uuid
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.clock import now
from app.core.errors import forbidden, not_found
from app.customers import service as customers
from app.customers.access import subtree_user_ids
from app.customers.clock import refresh_recycle_clock
from app.customers.models import Customer
from app.db import savepoint
from app.fieldwork.models import Followup, WorkLog
from app.money.models import Contract
from app.org.models import User
from app.org.settings import company_settings
from app.pipeline.models import Opportunity
from app.pipeline.opportunities.quadrant import forget_size_line
from app.retention import errors

Record = TypeVar("Record", Customer, Followup, WorkLog, Opportunity, Contract)


async def may_restore(
    session: AsyncSession, principal: Principal, owner_id: uuid.UUID | None
) -> bool:
    """Admins; managers above the owner (any manager for an unowned record)."""
    if principal.is_admin:
        return True
    if not principal.is_manager or not principal.department_path:
        return False
    if owner_id is None:
        return True
    return await session.scalar(subtree_user_ids(principal).where(User.id == owner_id)) is not None


async def _deleted(
    session: AsyncSession,
    principal: Principal,
    model: type[Record],
    record_id: uuid.UUID,
    owner_id: Any,
    what: str,
) -> Record:
    """The company's record, locked, checked: the caller may restore it (else 404, or 403 for
    its owner), it is deleted (409 `record_not_deleted`), within the window (409)."""
    record = await session.scalar(
        select(model)
        .where(model.id == record_id, model.company_id == principal.company_id)
        .with_for_update()
    )
    if record is None:
        raise not_found(what)
    owner = getattr(record, owner_id)
    if not await may_restore(session, principal, owner):
        if owner == principal.user_id:
            raise forbidden(f"Ask your manager or an admin to restore this {what}.")
        raise not_found(what)
    if record.deleted_at is None:
        raise errors.record_not_deleted(f"This {what} is not deleted.")
    days = (await company_settings(session, principal.company_id)).restore_days
    if record.deleted_at < now() - timedelta(days=days):
        raise errors.restore_window_passed(record.deleted_at, days)
    return record


async def _customer_live(session: AsyncSession, customer_id: uuid.UUID | None) -> None:
    if customer_id is None:
        return
    deleted_at = await session.scalar(select(Customer.deleted_at).where(Customer.id == customer_id))
    if deleted_at is not None:
        raise errors.customer_deleted()


async def _undelete(session: AsyncSession, record: Any) -> None:
    """Clear `deleted_at` in a savepoint; a unique key a live record took since is a 409."""
    try:
        async with savepoint(session):
            record.deleted_at = None
            if hasattr(record, "version"):
                record.version += 1
    except IntegrityError as exc:
        raise errors.restore_conflict() from exc


async def restore_customer(
    session: AsyncSession, principal: Principal, customer_id: uuid.UUID
) -> Customer:
    customer = await _deleted(session, principal, Customer, customer_id, "owner_id", "customer")
    matches = await customers.find_duplicates(
        session, principal, customer.name, customer.phone, exclude_id=customer.id
    )
    if matches:
        raise customers.duplicate_problem(matches)
    try:
        async with savepoint(session):
            customer.deleted_at = None
            customer.version += 1
    except IntegrityError as exc:  # a concurrent create took the name or phone
        matches = await customers.find_duplicates(
            session, principal, customer.name, customer.phone, exclude_id=customer.id
        )
        if matches:
            raise customers.duplicate_problem(matches) from exc
        raise errors.restore_conflict() from exc
    await refresh_recycle_clock(session, customer.id)  # the delete cleared recycle_at
    await session.refresh(customer)
    return customer


async def restore_followup(
    session: AsyncSession, principal: Principal, followup_id: uuid.UUID
) -> Followup:
    followup = await _deleted(session, principal, Followup, followup_id, "user_id", "follow-up")
    await _customer_live(session, followup.customer_id)
    await _undelete(session, followup)
    return followup


async def restore_log(session: AsyncSession, principal: Principal, log_id: uuid.UUID) -> WorkLog:
    log = await _deleted(session, principal, WorkLog, log_id, "user_id", "log")
    await _undelete(session, log)
    return log


async def restore_opportunity(
    session: AsyncSession, principal: Principal, opportunity_id: uuid.UUID
) -> Opportunity:
    opportunity = await _deleted(
        session, principal, Opportunity, opportunity_id, "owner_id", "opportunity"
    )
    await _customer_live(session, opportunity.customer_id)
    await _undelete(session, opportunity)
    await forget_size_line(opportunity.company_id)
    return opportunity


async def restore_contract(
    session: AsyncSession, principal: Principal, contract_id: uuid.UUID
) -> Contract:
    """Only drafts are ever deleted, so a restored contract is a draft again."""
    contract = await _deleted(session, principal, Contract, contract_id, "owner_id", "contract")
    await _customer_live(session, contract.customer_id)
    await _undelete(session, contract)
    return contract
