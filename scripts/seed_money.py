"""Demo money: products, contracts with instalments and payments, one approval waiting.

Called by scripts.seed_demo after the pipeline; idempotent (skips when the demo has products).
Made through the services the API uses:

* products in two lines — 巡店系统 (the store-audit app per seat and year, a hardware kit) and
  数据服务 (analytics reports, on-site implementation);
* a contract with lines for each of the first four won demo customers, submitted (no approval
  flow yet, so active at once: the deal on the customer), three instalments each, payments
  recorded by the rep and confirmed by the admin; one instalment is overdue (due three weeks
  ago, unpaid) and one contract ends in three weeks (the expiry reminder's case);
* a contract approval flow (the rep's managers, one level up), and one more contract submitted
  by rep01 that waits for manager01's approval.
"""

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.approvals import service as approvals
from app.approvals.schemas import FlowCreate, FlowStep, ManagerApprovers
from app.customers.models import Customer
from app.money.contracts import service as contracts
from app.money.contracts.schemas import ContractCreate, LineIn
from app.money.models import Product
from app.money.payments import service as payments
from app.money.payments.schemas import PaymentCreate
from app.money.plans import service as plans
from app.money.plans.schemas import PlanCreate
from app.money.products import service as products
from app.money.products.schemas import ProductCreate
from scripts.seed_pipeline import principal_of

DemoId = Callable[[str], uuid.UUID]

PRODUCTS = [  # code, name, unit, list price, line
    (
        "XD-APP",
        "巡店App 订阅（每账号每年） Store-audit app, per seat-year",
        "账号",
        "1200.00",
        "巡店系统",
    ),
    ("XD-KIT", "门店硬件套装 In-store hardware kit", "套", "3680.00", "巡店系统"),
    ("SJ-RPT", "经营分析报表 Analytics reports", "年", "18000.00", "数据服务"),
    ("SJ-IMP", "实施服务 On-site implementation", "人天", "2500.00", "数据服务"),
]


def _lines(ids: dict[str, uuid.UUID], n: int) -> list[LineIn]:
    return [
        LineIn(product_id=ids["XD-APP"], quantity=Decimal(20 + 10 * n), discount=Decimal("0.1")),
        LineIn(product_id=ids["XD-KIT"], quantity=Decimal(5 + n)),
        LineIn(product_id=ids["SJ-IMP"], quantity=Decimal(4), discount=Decimal("0.05")),
    ]


async def seed_money(session: AsyncSession, company_id: uuid.UUID, demo_id: DemoId) -> int:
    """Insert the demo money once (commits); returns the contracts made."""
    if await session.scalar(select(Product.id).where(Product.company_id == company_id).limit(1)):
        return 0
    admin = await principal_of(session, demo_id("user:admin"))
    ids: dict[str, uuid.UUID] = {}
    for code, name, unit, price, line in PRODUCTS:
        product, _ = await products.create_product(
            session,
            admin,
            ProductCreate(
                id=demo_id(f"product:{code}"),
                name=name,
                code=code,
                unit=unit,
                list_price=Decimal(price),
                product_line=line,
            ),
        )
        ids[code] = product.id
    today = await plans.company_today(session, company_id)
    won = list(
        (
            await session.scalars(
                select(Customer)
                .where(
                    Customer.company_id == company_id,
                    Customer.status == "won",
                    Customer.owner_id.is_not(None),
                    Customer.deleted_at.is_(None),
                )
                .order_by(Customer.created_at, Customer.id)
                .limit(4)
            )
        ).all()
    )
    made = 0
    for n, customer in enumerate(won):
        assert customer.owner_id is not None
        rep = await principal_of(session, customer.owner_id)
        start = today - timedelta(days=60 - 10 * n)
        contract, _ = await contracts.create_contract(
            session,
            rep,
            ContractCreate(
                id=demo_id(f"contract:{n}"),
                customer_id=customer.id,
                title=f"{customer.name} 巡店系统采购合同 Store-audit purchase",
                lines=_lines(ids, n),
                start_date=start,
                # The second contract ends in three weeks: the expiry reminder's case.
                end_date=today + timedelta(days=21) if n == 1 else start + timedelta(days=365),
                note="演示合同 demo contract",
            ),
        )
        contract = await contracts.submit_contract(session, rep, contract.id, None)
        thirds = (contract.amount / 3).quantize(Decimal("0.01"))
        dues: list[tuple[date, Decimal]] = [
            (start + timedelta(days=10), thirds),
            # The first contract's second instalment fell due three weeks ago: overdue.
            (today - timedelta(days=21) if n == 0 else today + timedelta(days=20), thirds),
            (start + timedelta(days=200), contract.amount - 2 * thirds),
        ]
        plan_ids = []
        for k, (due, amount) in enumerate(dues):
            plan, _ = await plans.create_plan(
                session,
                rep,
                contract.id,
                PlanCreate(id=demo_id(f"plan:{n}:{k}"), due_date=due, amount=amount),
            )
            plan_ids.append(plan.plan.id)
        # The first instalment was paid and confirmed; contract 3 also paid part of the second.
        paid: list[tuple[int, Decimal]] = [(0, thirds)]
        if n == 2:
            paid.append((1, (thirds / 2).quantize(Decimal("0.01"))))
        for k, amount in paid:
            row, _ = await payments.record_payment(
                session,
                rep,
                PaymentCreate(
                    id=demo_id(f"payment:{n}:{k}"),
                    contract_id=contract.id,
                    plan_id=plan_ids[k],
                    amount=amount,
                    received_on=min(dues[k][0], today),
                    method="bank_transfer",
                    note="银行转账 demo transfer",
                ),
            )
            payment = row[0]
            await payments.confirm_payment(session, admin, payment.id)
        made += 1
    await approvals.create_flow(
        session,
        admin,
        FlowCreate(
            id=demo_id("flow:contract"),
            kind="contract",
            name="合同审批 Contract approval",
            steps=[FlowStep(approvers=ManagerApprovers(type="manager", levels=1), mode="any")],
        ),
    )
    rep01 = await principal_of(session, demo_id("user:rep01"))
    customer_id = await session.scalar(
        select(Customer.id)
        .where(Customer.owner_id == rep01.user_id, Customer.deleted_at.is_(None))
        .order_by(Customer.created_at.desc(), Customer.id)
        .limit(1)
    )
    assert customer_id is not None
    waiting, _ = await contracts.create_contract(
        session,
        rep01,
        ContractCreate(
            id=demo_id("contract:waiting"),
            customer_id=customer_id,
            title="数据服务年度合同 Annual data services (awaiting approval)",
            lines=[LineIn(product_id=ids["SJ-RPT"], quantity=Decimal(1))],
            start_date=today + timedelta(days=7),
            end_date=today + timedelta(days=372),
        ),
    )
    await contracts.submit_contract(session, rep01, waiting.id, None)
    await session.commit()
    return made + 1
