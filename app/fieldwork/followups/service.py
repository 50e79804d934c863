"""Follow-up records (跟进记录): each one resets the customer's follow-up clock."""

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core import client_ids
from app.core.clock import now
from app.core.concurrency import check_if_match
from app.core.errors import forbidden, not_found
from app.core.pagination import PageParams, make_page, paginate
from app.customers import errors as customer_errors
from app.customers.access import load_customer, subtree_user_ids
from app.customers.clock import refresh_recycle_clock
from app.db import savepoint
from app.feed import publish
from app.fieldwork import errors
from app.fieldwork.files import service as files
from app.fieldwork.followups.schemas import FollowupCreate, FollowupUpdate
from app.fieldwork.models import Checkin, Followup
from app.fieldwork.visibility import record_visibility
from app.leads.records import service as lead_records
from app.notifications.webhooks.service import enqueue_event
from app.org.models import User


async def create_followup(
    session: AsyncSession, principal: Principal, data: FollowupCreate
) -> tuple[Followup, bool]:
    """A follow-up on a visible customer the caller works (pool customers: claim first)."""
    request_hash = client_ids.request_hash(data)
    existing = await client_ids.replayed(
        session,
        Followup,
        data.id,
        request_hash,
        lambda row: row.company_id == principal.company_id and row.user_id == principal.user_id,
    )
    if existing is not None:
        return existing, False
    if data.lead_id is not None:
        return await _create_on_lead(session, principal, data, request_hash), True
    assert data.customer_id is not None  # the schema asks for exactly one of the two
    access = await load_customer(session, principal, data.customer_id)
    if access.customer.owner_id is None and not (principal.is_manager or principal.is_admin):
        raise customer_errors.customer_not_owned("This customer is in the pool: claim it first.")
    if data.checkin_id is not None:
        linked = await session.scalar(
            select(Checkin.id).where(
                Checkin.id == data.checkin_id,
                Checkin.company_id == principal.company_id,
                Checkin.customer_id == data.customer_id,
            )
        )
        if linked is None:
            raise errors.unknown_checkin()
    at = now()
    followup = Followup(
        id=data.id or uuid.uuid4(),
        company_id=principal.company_id,
        user_id=principal.user_id,
        customer_id=data.customer_id,
        kind=data.kind,
        text=data.text,
        next_followup_at=data.next_followup_at,
        checkin_id=data.checkin_id,
        request_hash=request_hash,
        version=1,
        created_at=at,
        updated_at=at,
    )
    try:
        async with savepoint(session):
            session.add(followup)
    except IntegrityError as exc:
        raise client_ids.id_conflict() from exc
    await files.attach_files(
        session, principal, data.attachment_ids, "followup", followup.id, field="attachment_ids"
    )
    await refresh_recycle_clock(
        session, data.customer_id, followup_at=at, next_followup_at=data.next_followup_at
    )
    await publish.record_added(
        session,
        principal,
        kind="followup",
        record_id=followup.id,
        customer_id=data.customer_id,
        summary={"followup_kind": data.kind, "text": publish.excerpt(data.text)},
        event_type="followup.created",
        created_at=at,
    )
    await session.flush()
    return followup, True


async def _create_on_lead(
    session: AsyncSession, principal: Principal, data: FollowupCreate, request_hash: str
) -> Followup:
    """A follow-up on a lead the caller owns (or manages the owner of): moves the lead's
    clock; no feed item (the feed is about customers), a `followup.created` webhook."""
    assert data.lead_id is not None
    lead = await lead_records.lead_for_followup(session, principal, data.lead_id)
    if data.checkin_id is not None:
        raise errors.unknown_checkin("A follow-up on a lead has no check-in.")
    at = now()
    followup = Followup(
        id=data.id or uuid.uuid4(),
        company_id=principal.company_id,
        user_id=principal.user_id,
        customer_id=None,
        lead_id=lead.id,
        kind=data.kind,
        text=data.text,
        next_followup_at=data.next_followup_at,
        request_hash=request_hash,
        version=1,
        created_at=at,
        updated_at=at,
    )
    try:
        async with savepoint(session):
            session.add(followup)
    except IntegrityError as exc:
        raise client_ids.id_conflict() from exc
    await files.attach_files(
        session, principal, data.attachment_ids, "followup", followup.id, field="attachment_ids"
    )
    await lead_records.lead_followed_up(session, principal.company_id, lead.id, at)
    await enqueue_event(
        session,
        principal.company_id,
        "followup.created",
        {
            "followup_id": followup.id,
            "lead_id": lead.id,
            "customer_id": None,
            "author_id": principal.user_id,
            "followup_kind": data.kind,
            "text": publish.excerpt(data.text),
        },
        occurred_at=at,
    )
    await session.flush()
    return followup


async def get_followup(
    session: AsyncSession, principal: Principal, followup_id: uuid.UUID
) -> Followup:
    """One visible follow-up, or 404."""
    followup = await session.scalar(
        select(Followup).where(
            Followup.id == followup_id,
            Followup.deleted_at.is_(None),
            record_visibility(principal, Followup),
        )
    )
    if followup is None:
        raise not_found("follow-up")
    return followup


async def update_followup(
    session: AsyncSession,
    principal: Principal,
    followup_id: uuid.UUID,
    data: FollowupUpdate,
    if_match: str | None,
) -> Followup:
    """The author edits text, kind or the next follow-up date (If-Match required)."""
    followup = await get_followup(session, principal, followup_id)
    if followup.user_id != principal.user_id:
        raise forbidden("Only the author may edit a follow-up.")
    check_if_match(if_match, followup.version)
    fields = data.model_fields_set
    if "text" in fields and data.text:
        followup.text = data.text
    if "kind" in fields and data.kind:
        followup.kind = data.kind
    if "next_followup_at" in fields:
        followup.next_followup_at = data.next_followup_at
    if "next_followup_at" in fields and followup.customer_id is not None:
        await refresh_recycle_clock(
            session,
            followup.customer_id,
            followup_at=followup.created_at,
            next_followup_at=data.next_followup_at,
        )
    followup.version += 1
    await session.flush()
    await session.refresh(followup)
    return followup


async def delete_followup(
    session: AsyncSession, principal: Principal, followup_id: uuid.UUID
) -> None:
    """Soft delete by the author or a manager above them (the clock does not move back)."""
    followup = await get_followup(session, principal, followup_id)
    if followup.user_id != principal.user_id and not principal.is_admin:
        # Seeing a follow-up (e.g. on a pool customer) is not being above its author.
        above = principal.is_manager and principal.department_path is not None
        if above:
            above = await session.scalar(
                subtree_user_ids(principal).where(User.id == followup.user_id)
            )
        if not above:
            raise forbidden("Only the author or a manager above them may delete a follow-up.")
    followup.deleted_at = now()
    await session.flush()


async def list_followups(
    session: AsyncSession, principal: Principal, params: PageParams, filters: dict[str, Any]
) -> tuple[list[Followup], str | None]:
    """Visible follow-ups, newest first."""
    stmt = select(Followup).where(
        Followup.deleted_at.is_(None), record_visibility(principal, Followup)
    )
    for field in ("customer_id", "lead_id", "user_id", "kind"):
        if filters.get(field):
            stmt = stmt.where(getattr(Followup, field) == filters[field])
    if filters.get("since"):
        stmt = stmt.where(Followup.created_at >= filters["since"])
    if filters.get("until"):
        stmt = stmt.where(Followup.created_at < filters["until"])
    rows = list(
        (await session.execute(paginate(stmt, Followup.created_at, Followup.id, params))).scalars()
    )
    return make_page(rows, params)
