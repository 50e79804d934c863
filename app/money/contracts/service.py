"""Contracts (合同): create, read, edit, soft-delete, and their status machine.

Visibility is exactly the customer's (`app.money.visibility.contract_visibility`). A number is
given per company and year when absent (`HT-2027-000123`) from `contract_counters` by one
upsert, so concurrent creates never share one (a rolled-back create leaves a gap). With lines
the amount is their exact sum (`rules.line_amount`). Writes lock the contract's row first, so
of two concurrent status changes the second sees the first's result.

draft → (submit) → pending_approval while a discount or contract approval runs → active →
completed | terminated. Becoming active records the deal on the customer (`close_deal`: the
no-deal clock, status won, `deal_won`), wins the linked open opportunity (`win_by_contract`),
notifies the team (`contract_activated`) and emits `contract.activated`; the approval engine
reaches this module through `approval_outcome` (`app.composition.APPROVAL_OUTCOMES`).
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import Integer, Uuid, bindparam, delete, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.approvals import errors as approval_errors
from app.approvals import service as approvals
from app.approvals.models import Approval, ApprovalFlow
from app.approvals.outcomes import ApprovalOutcome
from app.auth.principal import Principal
from app.core import client_ids
from app.core.clock import now
from app.core.concurrency import check_if_match
from app.core.errors import ProblemError, not_found
from app.core.pagination import PageParams, make_page, paginate
from app.customers import errors as customer_errors
from app.customers.access import Access, load_customer, record_access
from app.customers.deals import close_deal
from app.customers.models import Collaborator, Customer
from app.db import AnyRow, savepoint, table_of
from app.fieldwork.periods import local_date
from app.money import errors, rules
from app.money.contracts.schemas import ContractCreate, ContractUpdate, LineIn
from app.money.models import Contract, ContractCounter, ContractLine, Product
from app.money.visibility import contract_visibility
from app.notifications.inbox import service as notifications
from app.notifications.webhooks.service import enqueue_event
from app.org.models import Company, Department, User
from app.pipeline import errors as pipeline_errors
from app.pipeline.models import Opportunity
from app.pipeline.opportunities.service import win_by_contract

RECORD_TYPE = "contract"  # approvals.record_type
NUMBER_ATTEMPTS = 5  # generated numbers tried past ones given by hand

_COUNTERS = table_of(ContractCounter)
# The next number of a company's year, decided in the database (the row lock serialises
# concurrent creates of one company and year until they commit). Built once.
_NEXT_NUMBER = (
    insert(_COUNTERS)
    .values(
        company_id=bindparam("company_id", type_=Uuid()),
        year=bindparam("year", type_=Integer()),
        last=1,
    )
    .on_conflict_do_update(
        index_elements=[_COUNTERS.c.company_id, _COUNTERS.c.year],
        set_={"last": _COUNTERS.c.last + 1},
    )
    .returning(_COUNTERS.c.last)
)

_LINE_COLUMNS = select(
    ContractLine.id,
    ContractLine.contract_id,
    ContractLine.product_id,
    Product.code.label("product_code"),
    Product.name.label("product_name"),
    ContractLine.description,
    ContractLine.quantity,
    ContractLine.unit_price,
    ContractLine.discount,
    ContractLine.amount,
    ContractLine.position,
).outerjoin(Product, Product.id == ContractLine.product_id)  # deleted products too

_OWNER = aliased(User)
_OWNER_DEPARTMENT = aliased(Department)
# Who hears that a contract is active: its owner, the managers above the owner (their
# department or an ancestor of it) and the customer's collaborators. Built once.
_ACTIVATION_AUDIENCE = (
    select(User.id)
    .join(Department, Department.id == User.department_id)
    .join(_OWNER, _OWNER.id == bindparam("owner_id", type_=Uuid()))
    .join(_OWNER_DEPARTMENT, _OWNER_DEPARTMENT.id == _OWNER.department_id)
    .where(
        User.company_id == _OWNER.company_id,
        User.role == "manager",
        User.is_active.is_(True),
        _OWNER_DEPARTMENT.path.startswith(Department.path),
    )
    .union(
        select(Collaborator.user_id).where(
            Collaborator.customer_id == bindparam("customer_id", type_=Uuid())
        ),
        select(bindparam("owner_id", type_=Uuid())),
    )
)


@dataclass(frozen=True)
class ContractFilters:
    customer_id: uuid.UUID | None = None
    status: str | None = None
    owner: Literal["me"] | uuid.UUID | None = None
    q: str | None = None
    signed_from: Any = None
    signed_to: Any = None


@dataclass(frozen=True)
class ContractView:
    """A contract with what its answer shows besides its columns."""

    contract: Contract
    lines: list[AnyRow]
    approval_id: uuid.UUID | None


# --- reads ---------------------------------------------------------------------------------


async def get_contract(
    session: AsyncSession, principal: Principal, contract_id: uuid.UUID, *, lock: bool = False
) -> Contract:
    """One visible contract (the entity), or 404; `lock` takes its row lock."""
    stmt = select(Contract).where(Contract.id == contract_id, contract_visibility(principal))
    if lock:
        stmt = stmt.with_for_update(of=Contract)
    contract = await session.scalar(stmt)
    if contract is None:
        raise not_found("contract")
    return contract


async def lines_of(
    session: AsyncSession, company_id: uuid.UUID, contract_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[AnyRow]]:
    """The lines of the contracts, in their order, with their products' code and name."""
    if not contract_ids:
        return {}
    rows = (
        await session.execute(
            _LINE_COLUMNS.where(
                ContractLine.company_id == company_id,
                ContractLine.contract_id.in_(list(contract_ids)),
            ).order_by(ContractLine.contract_id, ContractLine.position)
        )
    ).all()
    found: dict[uuid.UUID, list[AnyRow]] = {}
    for row in rows:
        found.setdefault(row.contract_id, []).append(row)
    return found


async def pending_approvals(
    session: AsyncSession, company_id: uuid.UUID, contract_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """contract id → its pending approval's id, for the contracts that have one."""
    if not contract_ids:
        return {}
    rows = await session.execute(
        select(Approval.record_id, Approval.id).where(
            Approval.company_id == company_id,
            Approval.record_type == RECORD_TYPE,
            Approval.record_id.in_(list(contract_ids)),
            Approval.status == "pending",
        )
    )
    return {row.record_id: row.id for row in rows}


async def view(session: AsyncSession, contract: Contract) -> ContractView:
    """The contract with its lines and pending approval."""
    lines = await lines_of(session, contract.company_id, [contract.id])
    approval = None
    if contract.status == "pending_approval":
        pending = await approvals.pending_for(
            session, contract.company_id, RECORD_TYPE, contract.id
        )
        approval = pending.id if pending is not None else None
    return ContractView(contract, lines.get(contract.id, []), approval)


async def list_contracts(
    session: AsyncSession, principal: Principal, params: PageParams, filters: ContractFilters
) -> tuple[list[ContractView], str | None]:
    """Visible contracts, newest first, with their lines (three queries per page)."""
    stmt = select(Contract).where(contract_visibility(principal))
    if filters.customer_id is not None:
        stmt = stmt.where(Contract.customer_id == filters.customer_id)
    if filters.status is not None:
        stmt = stmt.where(Contract.status == filters.status)
    if filters.owner is not None:
        owner = principal.user_id if filters.owner == "me" else filters.owner
        stmt = stmt.where(Contract.owner_id == owner)
    if filters.q:
        pattern = "%" + filters.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern += "%"
        stmt = stmt.where(or_(Contract.number.ilike(pattern), Contract.title.ilike(pattern)))
    if filters.signed_from is not None:
        stmt = stmt.where(Contract.signed_on >= filters.signed_from)
    if filters.signed_to is not None:
        stmt = stmt.where(Contract.signed_on <= filters.signed_to)
    found = list(
        (await session.execute(paginate(stmt, Contract.created_at, Contract.id, params))).scalars()
    )
    contracts, next_cursor = make_page(found, params)
    ids = [c.id for c in contracts]
    lines = await lines_of(session, principal.company_id, ids)
    pending = await pending_approvals(
        session, principal.company_id, [c.id for c in contracts if c.status == "pending_approval"]
    )
    return [ContractView(c, lines.get(c.id, []), pending.get(c.id)) for c in contracts], next_cursor


# --- helpers of the writes -----------------------------------------------------------------


async def _company(session: AsyncSession, company_id: uuid.UUID) -> tuple[str, str]:
    """The company's time zone and currency."""
    row = (
        await session.execute(
            select(Company.time_zone, Company.settings).where(Company.id == company_id)
        )
    ).one()
    currency = (row.settings or {}).get("currency") or "CNY"
    return row.time_zone or "Asia/Shanghai", str(currency)[:3]


async def _customer_for_contract(
    session: AsyncSession, principal: Principal, customer_id: uuid.UUID
) -> Access:
    """A visible, owned customer the caller may sign with: reps their own or collaborated
    ones (409 `customer_not_owned`), managers and admins any visible owned one."""
    access = await load_customer(session, principal, customer_id)
    if access.customer.owner_id is None:
        raise customer_errors.customer_not_owned("This customer is in the pool: claim it first.")
    if not (principal.is_admin or principal.is_manager) and not (
        access.is_owner or access.is_collaborator
    ):
        raise customer_errors.customer_not_owned(
            "Only the customer's owner and collaborators make contracts with it."
        )
    return access


async def _may_work(session: AsyncSession, principal: Principal, contract: Contract) -> Access:
    return await record_access(
        session, principal, contract.customer_id, contract.owner_id, "contract"
    )


async def _check_opportunity(
    session: AsyncSession, company_id: uuid.UUID, customer_id: uuid.UUID, opportunity_id: uuid.UUID
) -> None:
    found = await session.scalar(
        select(Opportunity.id).where(
            Opportunity.id == opportunity_id,
            Opportunity.company_id == company_id,
            Opportunity.customer_id == customer_id,
            Opportunity.deleted_at.is_(None),
        )
    )
    if found is None:
        raise errors.unknown_opportunity()


async def _check_owner(session: AsyncSession, company_id: uuid.UUID, owner_id: uuid.UUID) -> None:
    active = await session.scalar(
        select(User.id).where(
            User.id == owner_id, User.company_id == company_id, User.is_active.is_(True)
        )
    )
    if active is None:
        raise pipeline_errors.unknown_owner()


@dataclass(frozen=True)
class ResolvedLine:
    product_id: uuid.UUID | None
    description: str | None
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal

    @property
    def amount(self) -> Decimal:
        return rules.line_amount(self.quantity, self.unit_price, self.discount)


async def _resolve_lines(
    session: AsyncSession, company_id: uuid.UUID, lines: Sequence[LineIn]
) -> list[ResolvedLine]:
    """Lines with their products' defaults (price, description); 422 for unknown products
    and for lines with neither a product nor a price."""
    product_ids = {line.product_id for line in lines if line.product_id is not None}
    products: dict[uuid.UUID, AnyRow] = {}
    if product_ids:
        rows = await session.execute(
            select(Product.id, Product.name, Product.list_price).where(
                Product.company_id == company_id,
                Product.id.in_(product_ids),
                Product.deleted_at.is_(None),
                Product.active.is_(True),
            )
        )
        products = {row.id: row for row in rows}
    unknown = [
        i
        for i, line in enumerate(lines)
        if line.product_id is not None and line.product_id not in products
    ]
    if unknown:
        raise errors.unknown_product(unknown)
    priceless = [
        i for i, line in enumerate(lines) if line.product_id is None and line.unit_price is None
    ]
    if priceless:
        raise errors.unit_price_required(priceless)
    resolved = []
    for line in lines:
        product = products.get(line.product_id) if line.product_id is not None else None
        unit_price = line.unit_price
        if unit_price is None:
            assert product is not None
            unit_price = product.list_price
        description = line.description or (product.name if product is not None else None)
        resolved.append(
            ResolvedLine(line.product_id, description, line.quantity, unit_price, line.discount)
        )
    return resolved


def _amount(given: Decimal | None, lines: Sequence[ResolvedLine]) -> Decimal:
    """The contract amount: the lines' exact sum (a different `given` is 422), else given."""
    if lines:
        computed = rules.contract_amount(
            rules.Line(line.quantity, line.unit_price, line.discount) for line in lines
        )
        if given is not None and given.quantize(rules.FEN) != computed:
            raise errors.amount_mismatch(f"{given.quantize(rules.FEN)}", f"{computed}")
        return computed
    if given is None:
        raise errors.amount_required()
    return given


def _line_rows(contract: Contract, lines: Sequence[ResolvedLine]) -> list[ContractLine]:
    return [
        ContractLine(
            id=uuid.uuid4(),
            company_id=contract.company_id,
            contract_id=contract.id,
            product_id=line.product_id,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount=line.discount,
            amount=line.amount,
            position=position,
        )
        for position, line in enumerate(lines)
    ]


async def _number_taken(session: AsyncSession, company_id: uuid.UUID, number: str) -> bool:
    found = await session.scalar(
        select(Contract.id).where(Contract.company_id == company_id, Contract.number == number)
    )
    return found is not None


async def next_number(session: AsyncSession, company_id: uuid.UUID, year: int) -> str:
    """The company's next contract number of the year (one upsert; never given twice)."""
    sequence = await session.scalar(_NEXT_NUMBER, {"company_id": company_id, "year": year})
    assert sequence is not None
    return rules.format_number(year, sequence)


def subject(contract: Contract) -> dict[str, Any]:
    """A contract in webhook payloads."""
    return {
        "id": str(contract.id),
        "number": contract.number,
        "customer_id": str(contract.customer_id),
        "opportunity_id": str(contract.opportunity_id) if contract.opportunity_id else None,
        "owner_id": str(contract.owner_id),
        "title": contract.title,
        "amount": f"{contract.amount.quantize(rules.FEN)}",
        "currency": contract.currency,
        "status": contract.status,
        "signed_on": contract.signed_on,
        "start_date": contract.start_date,
        "end_date": contract.end_date,
        "activated_at": contract.activated_at,
        "completed_at": contract.completed_at,
        "terminated_at": contract.terminated_at,
        "terminated_reason": contract.terminated_reason,
        "version": contract.version,
    }


def _lines_subject(lines: Sequence[ResolvedLine]) -> list[dict[str, Any]]:
    return [
        {
            "product_id": str(line.product_id) if line.product_id else None,
            "description": line.description,
            "quantity": str(line.quantity),
            "unit_price": f"{line.unit_price.quantize(rules.FEN)}",
            "discount": str(line.discount),
            "amount": f"{line.amount}",
        }
        for line in lines
    ]


def _locked(approval: Approval | None) -> ProblemError:
    return approval_errors.record_locked_for_approval(str(approval.id) if approval else "")


async def _refuse(session: AsyncSession, contract: Contract, action: rules.Action) -> None:
    """409 when the contract's status does not allow `action`."""
    refusal = rules.check_action(action, contract.status)
    if refusal is None:
        return
    if refusal.kind == "locked":
        pending = await approvals.pending_for(
            session, contract.company_id, RECORD_TYPE, contract.id
        )
        raise _locked(pending)
    if action == "delete":
        raise errors.contract_not_deletable(contract.status)
    raise errors.contract_transition_not_allowed(refusal.detail, contract.status)


# --- writes --------------------------------------------------------------------------------


async def create_contract(
    session: AsyncSession, principal: Principal, data: ContractCreate
) -> tuple[Contract, bool]:
    """A draft contract with a visible customer: (contract, created). The caller commits.

    Reps sign with customers they own or collaborate on (else 409 `customer_not_owned`),
    managers and admins with any visible owned customer. The number is generated when absent
    (a given one in use: 409 `contract_number_taken`). A retry with the same id and body
    answers the same contract (False); another use of the id is 409 `id_conflict`."""
    request_hash = client_ids.request_hash(data)
    existing = await client_ids.replayed(
        session,
        Contract,
        data.id,
        request_hash,
        lambda row: row.company_id == principal.company_id and row.created_by == principal.user_id,
    )
    if existing is not None:
        return existing, False
    access = await _customer_for_contract(session, principal, data.customer_id)
    customer = access.customer
    if data.opportunity_id is not None:
        await _check_opportunity(session, principal.company_id, customer.id, data.opportunity_id)
    owner_id = data.owner_id or customer.owner_id
    assert owner_id is not None
    if data.owner_id is not None and data.owner_id != customer.owner_id:
        await _check_owner(session, principal.company_id, data.owner_id)
    if not rules.dates_in_order(data.start_date, data.end_date):
        raise errors.invalid_contract_dates()
    lines = await _resolve_lines(session, principal.company_id, data.lines)
    amount = _amount(data.amount, lines)
    time_zone, currency = await _company(session, principal.company_id)
    at = now()
    if data.number is not None and await _number_taken(session, principal.company_id, data.number):
        raise errors.contract_number_taken(data.number)
    year = (data.signed_on or local_date(at, time_zone)).year
    contract_id = data.id or uuid.uuid4()
    for _ in range(NUMBER_ATTEMPTS):
        number = data.number or await next_number(session, principal.company_id, year)
        contract = Contract(
            id=contract_id,
            company_id=principal.company_id,
            customer_id=customer.id,
            opportunity_id=data.opportunity_id,
            owner_id=owner_id,
            number=number,
            title=data.title,
            amount=amount,
            currency=currency,
            signed_on=data.signed_on,
            start_date=data.start_date,
            end_date=data.end_date,
            status="draft",
            received=Decimal(0),
            committed=Decimal(0),
            note=data.note,
            created_by=principal.user_id,
            request_hash=request_hash,
            version=1,
            created_at=at,
            updated_at=at,
        )
        try:
            async with savepoint(session):
                session.add(contract)
        except IntegrityError as exc:
            if not await _number_taken(session, principal.company_id, number):
                raise client_ids.id_conflict() from exc
            if data.number is not None:
                raise errors.contract_number_taken(number) from exc
            continue  # a number given by hand earlier: take the next one
        break
    else:
        raise errors.contract_number_taken(number)
    session.add_all(_line_rows(contract, lines))
    await session.flush()
    await enqueue_event(
        session,
        contract.company_id,
        "contract.created",
        {**subject(contract), "lines": _lines_subject(lines)},
        occurred_at=at,
    )
    return contract, True


async def update_contract(
    session: AsyncSession,
    principal: Principal,
    contract_id: uuid.UUID,
    data: ContractUpdate,
    if_match: str | None,
) -> Contract:
    """Edit a contract (If-Match required). A draft: every field; an active, completed or
    terminated one: title, note, end_date (else 409 `contract_locked`); one waiting for
    approval: nothing (409 `record_locked_for_approval`)."""
    contract = await get_contract(session, principal, contract_id, lock=True)
    await _may_work(session, principal, contract)
    if contract.status == "pending_approval":
        raise _locked(
            await approvals.pending_for(session, contract.company_id, RECORD_TYPE, contract.id)
        )
    check_if_match(if_match, contract.version)
    fields = data.model_fields_set
    locked = rules.locked_fields(contract.status, fields)
    if locked:
        raise errors.contract_locked(
            f"A {contract.status} contract's {', '.join(locked)} cannot change: "
            "make a new contract or terminate this one."
        )
    customer_id = contract.customer_id
    if "customer_id" in fields and data.customer_id and data.customer_id != customer_id:
        await _customer_for_contract(session, principal, data.customer_id)
        customer_id = data.customer_id
    opportunity_id = data.opportunity_id if "opportunity_id" in fields else contract.opportunity_id
    if opportunity_id is not None and (
        "opportunity_id" in fields or customer_id != contract.customer_id
    ):
        await _check_opportunity(session, contract.company_id, customer_id, opportunity_id)
    if "owner_id" in fields and data.owner_id and data.owner_id != contract.owner_id:
        await _check_owner(session, contract.company_id, data.owner_id)
        contract.owner_id = data.owner_id
    start = data.start_date if "start_date" in fields else contract.start_date
    end = data.end_date if "end_date" in fields else contract.end_date
    if not rules.dates_in_order(start, end):
        raise errors.invalid_contract_dates()
    if "lines" in fields or "amount" in fields:
        if "lines" in fields:
            new_lines = await _resolve_lines(session, contract.company_id, data.lines or [])
        else:
            new_lines = await _current_lines(session, contract)
        # Lines decide the amount (a different one sent is 422); without lines the amount
        # sent, else the one it had.
        given = data.amount if "amount" in fields else None
        keep = not new_lines and given is None
        contract.amount = _amount(contract.amount if keep else given, new_lines)
        if "lines" in fields:
            await session.execute(
                delete(ContractLine).where(
                    ContractLine.company_id == contract.company_id,
                    ContractLine.contract_id == contract.id,
                )
            )
            session.add_all(_line_rows(contract, new_lines))
    number = data.number if "number" in fields and data.number else contract.number
    if number != contract.number and await _number_taken(session, contract.company_id, number):
        raise errors.contract_number_taken(number)
    contract.customer_id = customer_id
    contract.opportunity_id = opportunity_id
    contract.start_date, contract.end_date = start, end
    if "title" in fields and data.title:
        contract.title = data.title
    for name in ("signed_on", "note"):
        if name in fields:
            setattr(contract, name, getattr(data, name))
    contract.version += 1
    contract.updated_at = now()
    try:
        async with savepoint(session):
            contract.number = number
    except IntegrityError as exc:
        raise errors.contract_number_taken(number) from exc
    return contract


async def _current_lines(session: AsyncSession, contract: Contract) -> list[ResolvedLine]:
    rows = (await lines_of(session, contract.company_id, [contract.id])).get(contract.id, [])
    return [
        ResolvedLine(r.product_id, r.description, r.quantity, r.unit_price, r.discount)
        for r in rows
    ]


async def delete_contract(
    session: AsyncSession, principal: Principal, contract_id: uuid.UUID
) -> None:
    """Soft delete of a draft (else 409 `contract_not_deletable`; in approval 409
    `record_locked_for_approval`). Its number stays taken."""
    contract = await get_contract(session, principal, contract_id, lock=True)
    await _may_work(session, principal, contract)
    await _refuse(session, contract, "delete")
    contract.deleted_at = now()
    contract.version += 1
    await session.flush()


async def submit_contract(
    session: AsyncSession, principal: Principal, contract_id: uuid.UUID, if_match: str | None
) -> Contract:
    """draft → pending_approval when a discount or contract approval applies, else active."""
    contract = await get_contract(session, principal, contract_id, lock=True)
    await _may_work(session, principal, contract)
    await _refuse(session, contract, "submit")
    if if_match is not None:
        check_if_match(if_match, contract.version)
    # In approval from here on: an engine that approves at once (every step skipped) finds
    # the contract waiting, as its outcome expects.
    contract.status = "pending_approval"
    contract.submitted_at = now()
    contract.version += 1
    await session.flush()
    await _route(session, principal, contract, discount_done=False)
    return contract


async def _active_flow(session: AsyncSession, company_id: uuid.UUID, kind: str) -> AnyRow | None:
    return (
        await session.execute(
            select(ApprovalFlow.id, ApprovalFlow.threshold).where(
                ApprovalFlow.company_id == company_id,
                ApprovalFlow.kind == kind,
                ApprovalFlow.active.is_(True),
                ApprovalFlow.deleted_at.is_(None),
            )
        )
    ).first()


async def _route(
    session: AsyncSession,
    actor: Principal,
    contract: Contract,
    *,
    discount_done: bool,
    submitter: Principal | None = None,
) -> None:
    """The next stop of a waiting contract: a discount approval (a line discount above the
    active discount flow's threshold), else a contract approval (an active contract flow),
    else active at once (by `actor`). An approval is submitted in the name of `submitter`
    (default the actor): after an approved discount, the original submitter, not the
    approver, so the contract flow resolves the submitter's managers."""
    kinds = ["contract"] if discount_done else ["discount", "contract"]
    for kind in kinds:
        flow = await _active_flow(session, contract.company_id, kind)
        if flow is None:
            continue
        if kind == "discount":
            lines = await _current_lines(session, contract)
            if not rules.needs_discount_approval((line.discount for line in lines), flow.threshold):
                continue
        title = f"{contract.number} {contract.title}"
        approval = await approvals.submit(
            session,
            submitter or actor,
            kind=kind,
            record_type=RECORD_TYPE,
            record_id=contract.id,
            customer_id=contract.customer_id,
            title=title[:300],
            amount=contract.amount,
        )
        if approval is None:
            continue
        if approval.status == "approved":
            # Every step was skipped: the engine approved it at once and (as agreed) called
            # `approval_outcome.approved`; if it did not, move on here.
            await session.refresh(contract)
            waiting = await approvals.pending_for(
                session, contract.company_id, RECORD_TYPE, contract.id
            )
            if contract.status == "pending_approval" and waiting is None:
                await _approved(session, actor, approval)
        return
    await _activate(session, actor, contract)


async def _activate(session: AsyncSession, actor: Principal, contract: Contract) -> None:
    """The contract becomes active: signed_on (default today, company time), the deal on the
    customer, the linked open opportunity won, the team told, `contract.activated`."""
    at = now()
    time_zone, _ = await _company(session, contract.company_id)
    contract.status = "active"
    contract.activated_at = at
    if contract.signed_on is None:
        contract.signed_on = local_date(at, time_zone)
    contract.version += 1
    contract.updated_at = at
    await session.flush()
    customer = await session.scalar(
        select(Customer).where(Customer.id == contract.customer_id).with_for_update()
    )
    assert customer is not None
    await close_deal(
        session,
        actor,
        customer,
        deal_id=uuid.uuid5(contract.id, "deal"),
        amount=contract.amount,
        note=contract.number,
        at=at,
    )
    if contract.opportunity_id is not None:
        await win_by_contract(session, actor, contract.opportunity_id, at)
    audience = list(
        (
            await session.execute(
                _ACTIVATION_AUDIENCE,
                {"owner_id": contract.owner_id, "customer_id": contract.customer_id},
            )
        ).scalars()
    )
    owner_name = await session.scalar(select(User.name).where(User.id == contract.owner_id))
    await notifications.notify(
        session,
        company_id=contract.company_id,
        user_ids=audience,
        kind="contract_activated",
        params={
            "actor": owner_name or "?",
            "number": contract.number,
            "customer": customer.name,
            "amount": f"{contract.amount.quantize(rules.FEN)}",
        },
        dedupe_key=f"contract_activated:{contract.id}",
        subject_type="contract",
        subject_id=contract.id,
        customer_id=customer.id,
        actor_id=actor.user_id,
        deep_link=f"outfield://contracts/{contract.id}",
    )
    await enqueue_event(
        session, contract.company_id, "contract.activated", subject(contract), occurred_at=at
    )
    await session.flush()


async def complete_contract(
    session: AsyncSession, principal: Principal, contract_id: uuid.UUID, if_match: str | None
) -> Contract:
    """active → completed."""
    contract = await get_contract(session, principal, contract_id, lock=True)
    await _may_work(session, principal, contract)
    await _refuse(session, contract, "complete")
    if if_match is not None:
        check_if_match(if_match, contract.version)
    at = now()
    contract.status = "completed"
    contract.completed_at = at
    contract.version += 1
    contract.updated_at = at
    await session.flush()
    return contract


async def terminate_contract(
    session: AsyncSession,
    principal: Principal,
    contract_id: uuid.UUID,
    reason: str,
    if_match: str | None,
) -> Contract:
    """active → terminated, with the reason; `contract.terminated`."""
    contract = await get_contract(session, principal, contract_id, lock=True)
    await _may_work(session, principal, contract)
    await _refuse(session, contract, "terminate")
    if if_match is not None:
        check_if_match(if_match, contract.version)
    at = now()
    contract.status = "terminated"
    contract.terminated_at = at
    contract.terminated_reason = reason
    contract.version += 1
    contract.updated_at = at
    await session.flush()
    await enqueue_event(
        session,
        contract.company_id,
        "contract.terminated",
        {**subject(contract), "actor_id": str(principal.user_id)},
        occurred_at=at,
    )
    return contract


# --- what the approval engine calls --------------------------------------------------------


async def _waiting(session: AsyncSession, approval: Approval) -> Contract | None:
    """The approval's contract, locked, when it still waits (else None: nothing to do)."""
    contract = await session.scalar(
        select(Contract)
        .where(
            Contract.id == approval.record_id,
            Contract.company_id == approval.company_id,
            Contract.deleted_at.is_(None),
        )
        .with_for_update()
    )
    if contract is None or contract.status != "pending_approval":
        return None
    return contract


async def _approved(session: AsyncSession, actor: Principal, approval: Approval) -> None:
    """A discount approval approved → the contract flow if one applies, else active; a
    contract approval approved → active."""
    contract = await _waiting(session, approval)
    if contract is None:
        return
    if approval.kind == "discount":
        submitter = await approvals.submitter_of(session, approval)
        await _route(session, actor, contract, discount_done=True, submitter=submitter)
    else:
        await _activate(session, actor, contract)


async def _back_to_draft(session: AsyncSession, actor: Principal, approval: Approval) -> None:
    """Rejected or withdrawn: the contract is a draft again (editable, submittable)."""
    contract = await _waiting(session, approval)
    if contract is None:
        return
    contract.status = "draft"
    contract.version += 1
    contract.updated_at = now()
    await session.flush()


approval_outcome = ApprovalOutcome(
    approved=_approved, rejected=_back_to_draft, withdrawn=_back_to_draft
)
