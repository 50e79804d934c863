"""The ledger's rules: the pure functions, and their SQL forms agreeing with them."""

import itertools
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Date, Numeric, literal, select

from app.db import session_factory
from app.money import ledger

D = Decimal


def test_instalment_status_rules():
    today = date(2027, 3, 3)
    assert ledger.instalment_status(D("100"), D("100"), date(2027, 1, 1), today) == "paid"
    assert ledger.instalment_status(D("100"), D("120"), date(2027, 5, 1), today) == "paid"
    assert ledger.instalment_status(D("100"), D("99.99"), date(2027, 3, 2), today) == "overdue"
    assert ledger.instalment_status(D("100"), D("0"), date(2027, 3, 2), today) == "overdue"
    assert ledger.instalment_status(D("100"), D("0.01"), date(2027, 3, 3), today) == "partial"
    assert ledger.instalment_status(D("100"), D("0"), date(2027, 3, 3), today) == "pending"
    assert ledger.instalment_status(D("100"), D("0"), date(2027, 4, 3), today) == "pending"


def test_received_and_committed_rules():
    at = datetime(2027, 1, 1, tzinfo=UTC)
    assert ledger.is_received(at) and not ledger.is_received(None)
    assert ledger.is_committed("recorded", None)
    assert ledger.is_committed("pending_approval", None)
    assert ledger.is_committed("confirmed", None)
    assert not ledger.is_committed("reversed", None)
    assert not ledger.is_committed("confirmed", uuid.uuid4())  # a reversal row


def test_days_overdue_and_company_today():
    assert ledger.days_overdue(date(2027, 3, 1), date(2027, 3, 31)) == 30
    assert ledger.days_overdue(date(2027, 3, 31), date(2027, 3, 1)) == 0
    # 16:30 UTC on 2 March is 00:30 on 3 March in Shanghai.
    late = datetime(2027, 3, 2, 16, 30, tzinfo=UTC)
    assert ledger.company_today("Asia/Shanghai", late) == date(2027, 3, 3)
    assert ledger.company_today("UTC", late) == date(2027, 3, 2)


def test_fen_rounds_half_up():
    assert ledger.fen(D("0.005")) == D("0.01")
    assert ledger.fen(D("0.0049")) == D("0.00")
    assert ledger.fen(D("2.675")) == D("2.68")


def _inst(n: int, due: date, amount: str, committed: str = "0") -> ledger.Instalment:
    return ledger.Instalment(uuid.UUID(int=n), due, D(amount), D(committed))


def test_allocate_oldest_first_then_the_next():
    a = _inst(1, date(2027, 1, 1), "300")
    b = _inst(2, date(2027, 2, 1), "300")
    c = _inst(3, date(2027, 3, 1), "400")
    assert ledger.allocate(D("450"), [c, b, a], None) == [(a.id, D("300")), (b.id, D("150"))]


def test_allocate_skips_what_is_already_committed_and_leaves_the_rest_unallocated():
    a = _inst(1, date(2027, 1, 1), "300", committed="300")
    b = _inst(2, date(2027, 2, 1), "300", committed="100")
    assert ledger.allocate(D("250"), [a, b], None) == [(b.id, D("200"))]
    assert ledger.allocate(D("50"), [], None) == []


def test_allocate_named_plan_first():
    a = _inst(1, date(2027, 1, 1), "300")
    b = _inst(2, date(2027, 2, 1), "300")
    c = _inst(3, date(2027, 3, 1), "400")
    assert ledger.allocate(D("500"), [a, b, c], c.id) == [(c.id, D("400")), (a.id, D("100"))]


def test_allocate_same_due_date_by_id():
    low = _inst(1, date(2027, 1, 1), "10")
    high = _inst(2, date(2027, 1, 1), "10")
    assert ledger.allocate(D("15"), [high, low], None) == [(low.id, D("10")), (high.id, D("5"))]


async def test_the_sql_forms_agree_with_the_pure_rules():
    today = date(2027, 3, 3)
    amounts = [D("100.00")]
    paids = [D("0.00"), D("0.01"), D("99.99"), D("100.00"), D("100.01")]
    dues = [date(2027, 3, 2), date(2027, 3, 3), date(2027, 3, 4), date(2026, 12, 1)]
    cases = list(itertools.product(amounts, paids, dues))
    money = Numeric(14, 2)
    columns = []
    for amount, paid, due in cases:
        columns.append(
            ledger.instalment_status_sql(
                literal(amount, money),
                literal(paid, money),
                literal(due, Date),
                literal(today, Date),
            )
        )
        columns.append(ledger.days_overdue_sql(literal(due, Date), literal(today, Date)))
    at = datetime(2027, 3, 2, 16, 30, tzinfo=UTC)
    columns.append(ledger.company_today_sql("Asia/Shanghai", literal(at)))
    async with session_factory()() as session:
        row = (await session.execute(select(*columns))).one()
    for index, (amount, paid, due) in enumerate(cases):
        assert row[2 * index] == ledger.instalment_status(amount, paid, due, today), (paid, due)
        assert row[2 * index + 1] == ledger.days_overdue(due, today), due
    assert row[-1] == ledger.company_today("Asia/Shanghai", at)
