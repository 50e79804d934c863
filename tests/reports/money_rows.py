"""Money rows written straight in SQL for the reminder and sales-report tests, following the
agreed semantics (received = confirmed payments incl. reversals of confirmed ones; committed
= payments neither reversed nor reversal rows; allocations to instalments), so those tests
need no other package's API."""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from app.db import session_factory


async def execute(sql: str, **params: Any) -> None:
    async with session_factory()() as session:
        await session.execute(text(sql), params)
        await session.commit()


async def scalar(sql: str, **params: Any) -> Any:
    async with session_factory()() as session:
        return await session.scalar(text(sql), params)


async def rows(sql: str, **params: Any) -> list[Any]:
    async with session_factory()() as session:
        return list((await session.execute(text(sql), params)).all())


async def product(company: str, name: str, line: str | None, price: str = "100.00") -> str:
    pid = str(uuid.uuid4())
    await execute(
        "INSERT INTO products (id, company_id, name, code, list_price, product_line, created_at,"
        " updated_at) VALUES (:id, :c, :n, :code, :p, :l, now(), now())",
        id=pid,
        c=company,
        n=name,
        code=f"P-{pid[:8]}",
        p=Decimal(price),
        l=line,
    )
    return pid


async def contract(
    company: str,
    customer: str,
    owner: str,
    amount: str | None = None,
    *,
    status: str = "active",
    signed_on: date | None = None,
    end_date: date | None = None,
    lines: list[tuple[str | None, str]] | None = None,
) -> str:
    """A contract; `lines` = [(product id, line amount)] (quantity 1 at that price), whose sum
    is the amount when given."""
    cid = str(uuid.uuid4())
    total = sum((Decimal(a) for _, a in lines), Decimal("0")) if lines else Decimal(amount or "0")
    if amount is not None:
        assert Decimal(amount) == total
    await execute(
        "INSERT INTO contracts (id, company_id, customer_id, owner_id, number, title, amount,"
        " status, signed_on, end_date, created_at, updated_at)"
        " VALUES (:id, :c, :cu, :o, :num, :t, :a, :s, :so, :e, now(), now())",
        id=cid,
        c=company,
        cu=customer,
        o=owner,
        num=f"HT-{cid[:8]}",
        t="合同",
        a=total,
        s=status,
        so=signed_on,
        e=end_date,
    )
    for position, (product_id, line_amount) in enumerate(lines or []):
        await execute(
            "INSERT INTO contract_lines (id, company_id, contract_id, product_id, quantity,"
            " unit_price, discount, amount, position) VALUES (gen_random_uuid(), :c, :k, :p, 1,"
            " :a, 0, :a, :pos)",
            c=company,
            k=cid,
            p=product_id,
            a=Decimal(line_amount),
            pos=position,
        )
    return cid


async def plan(company: str, contract_id: str, due: date, amount: str) -> str:
    pid = str(uuid.uuid4())
    await execute(
        "INSERT INTO payment_plans (id, company_id, contract_id, due_date, amount, created_at,"
        " updated_at) VALUES (:id, :c, :k, :d, :a, now(), now())",
        id=pid,
        c=company,
        k=contract_id,
        d=due,
        a=Decimal(amount),
    )
    return pid


async def payment(
    company: str,
    contract_id: str,
    by: str,
    amount: str,
    received_on: date,
    *,
    confirmed: bool = True,
    allocations: list[tuple[str, str]] | None = None,
) -> str:
    """A payment (confirmed or only recorded) with its allocations; moves the contract's
    running totals as the payments service does."""
    pay = str(uuid.uuid4())
    money = Decimal(amount)
    await execute(
        "INSERT INTO payments (id, company_id, contract_id, amount, received_on, method, status,"
        " recorded_by, confirmed_by, confirmed_at, created_at, updated_at) VALUES (:id, :c, :k,"
        " :a, :r, 'bank_transfer', :s, :by, :cb, :ca, now(), now())",
        id=pay,
        c=company,
        k=contract_id,
        a=money,
        r=received_on,
        s="confirmed" if confirmed else "recorded",
        by=by,
        cb=by if confirmed else None,
        ca=datetime.now(UTC) if confirmed else None,
    )
    for plan_id, part in allocations or []:
        await execute(
            "INSERT INTO payment_allocations (payment_id, plan_id, company_id, amount)"
            " VALUES (:p, :pl, :c, :a)",
            p=pay,
            pl=plan_id,
            c=company,
            a=Decimal(part),
        )
    await execute(
        "UPDATE contracts SET committed = committed + :a,"
        " received = received + CASE WHEN :conf THEN :a ELSE 0 END WHERE id = :k",
        a=money,
        conf=confirmed,
        k=contract_id,
    )
    return pay


async def reverse(company: str, payment_id: str, by: str, received_on: date) -> str:
    """The reversal row of a payment (and its negative allocations); the original `reversed`."""
    original = (
        await rows(
            "SELECT contract_id, amount, confirmed_at FROM payments WHERE id = :p", p=payment_id
        )
    )[0]
    rid = str(uuid.uuid4())
    confirmed = original.confirmed_at is not None
    await execute(
        "INSERT INTO payments (id, company_id, contract_id, reverses_id, amount, received_on,"
        " method, status, recorded_by, confirmed_at, created_at, updated_at) VALUES (:id, :c, :k,"
        " :o, :a, :r, 'bank_transfer', :s, :by, :ca, now(), now())",
        id=rid,
        c=company,
        k=original.contract_id,
        o=payment_id,
        a=-original.amount,
        r=received_on,
        s="confirmed" if confirmed else "recorded",
        by=by,
        ca=datetime.now(UTC) if confirmed else None,
    )
    await execute(
        "INSERT INTO payment_allocations (payment_id, plan_id, company_id, amount)"
        " SELECT :r, plan_id, company_id, -amount FROM payment_allocations WHERE payment_id = :p",
        r=rid,
        p=payment_id,
    )
    await execute("UPDATE payments SET status = 'reversed' WHERE id = :p", p=payment_id)
    await execute(
        "UPDATE contracts SET committed = committed - :a,"
        " received = received - CASE WHEN :conf THEN :a ELSE 0 END WHERE id = :k",
        a=original.amount,
        conf=confirmed,
        k=original.contract_id,
    )
    return rid
